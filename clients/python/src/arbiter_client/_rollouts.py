"""Turning trainer-side samples (plain text or chat messages) into Arbiter rollouts."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence


def content_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a multimodal part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, Mapping):
                if part.get("type", "text") == "text" and part.get("text") is not None:
                    parts.append(str(part["text"]))
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return str(content)


def is_messages(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(isinstance(m, Mapping) and "role" in m for m in value)
    )


def prompt_text(prompt: Any) -> str:
    """TRL prompts are a string, or (conversational) a list of {"role", "content"} messages.

    A lone user message becomes its text; a longer conversation keeps every role, so the judge
    sees the system prompt and earlier turns too.
    """
    if not is_messages(prompt):
        return content_text(prompt)
    if len(prompt) == 1 and prompt[0].get("role") == "user":
        return content_text(prompt[0].get("content"))
    return "\n\n".join(f"[{m['role']}]\n{content_text(m.get('content'))}" for m in prompt)


_MESSAGE_KEYS = ("tool_calls", "tool_call_id", "name")


def trajectory(prompt: Any, completion: Any) -> Optional[List[Dict[str, Any]]]:
    """A conversational sample as Arbiter's `messages` (the prompt's turns, then the completion's,
    which may hold tool calls and tool results), or None when it is plain text or does not end
    with the assistant's answer. Content becomes its text (images are not sent); tool calls and
    their ids travel as they are."""
    if not (is_messages(prompt) or is_messages(completion)):
        return None
    turns = list(prompt) if is_messages(prompt) else [{"role": "user", "content": content_text(prompt)}]
    turns += list(completion) if is_messages(completion) else [{"role": "assistant", "content": content_text(completion)}]
    if not turns or turns[-1].get("role") != "assistant":
        return None
    out = []
    for m in turns:
        message: Dict[str, Any] = {"role": m["role"], "content": content_text(m.get("content"))}
        message.update({k: m[k] for k in _MESSAGE_KEYS if m.get(k) is not None})
        out.append(message)
    return out


def completion_text(completion: Any) -> str:
    """TRL completions are a string, or (conversational) a list of messages, usually one
    `{"role": "assistant", "content": ...}`. The response is the assistant's text."""
    if not is_messages(completion):
        return content_text(completion)
    assistant = [m for m in completion if m.get("role") == "assistant"] or list(completion)
    return "\n".join(content_text(m.get("content")) for m in assistant)


def reference_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
