import { InterceptingCall, Metadata, status, type Interceptor, type NextCall } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { rootMessage } from './client-errors';

/**
 * The SDK's own retries, with a call that finds the connection closed ending as CANCELLED
 * instead of throwing from a timer.
 *
 * The client retries a call that failed on the way (UNAVAILABLE, RESOURCE_EXHAUSTED, ...) from
 * a `setTimeout`, and creates the new attempt when the timer fires. A connection closed while
 * a call waits there (a service shutting down, a test ending) makes grpc-js throw "Channel has
 * been shut down" inside that timer: an uncaught exception, which ends the process and, in
 * vitest, fails the whole run. Below the retry interceptor, this one turns a call that cannot
 * be made into a call that ends at once with CANCELLED: not retried, and handed to whoever
 * awaits it as the rejection it is.
 */
export function closeSafeInterceptors(): Interceptor[] {
  return [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), endsWhenClosed];
}

/** `Connection.connect` with {@link closeSafeInterceptors}; interceptors given in `options` replace them. */
export function connectSafely(options: ConnectionOptions): Promise<Connection> {
  return Connection.connect({ interceptors: closeSafeInterceptors(), ...options });
}

const endsWhenClosed: Interceptor = (options, nextCall) => {
  try {
    return new InterceptingCall(nextCall(options));
  } catch (err) {
    // grpc-js throws here only for a channel shut down (or arguments the SDK never passes).
    const unary = !options.method_definition?.responseStream;
    return new InterceptingCall(endedCall(`call not made: ${rootMessage(err)}`, unary));
  }
};

/** A call that ends with CANCELLED as soon as it starts, as a unary call would: no message, then the status. */
function endedCall(details: string, unary: boolean): ReturnType<NextCall> {
  return {
    start(_metadata, listener) {
      setImmediate(() => {
        if (unary) listener?.onReceiveMessage?.(null);
        listener?.onReceiveStatus?.({ code: status.CANCELLED, details, metadata: new Metadata() });
      });
    },
    sendMessageWithContext() {},
    sendMessage() {},
    startRead() {},
    halfClose() {},
    cancelWithStatus() {},
    getPeer: () => '',
    getAuthContext: () => null,
  };
}
