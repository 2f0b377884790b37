import type { SafetyCategory } from '../../config/reward-config';

export interface SafetyRule {
  id: string;
  pattern: RegExp;
}

// Precision over recall: a hit can veto a sample's reward, so each rule targets a shape that is
// rarely innocent. Quantifiers are bounded so that long unbroken tokens (base64 blobs, minified
// code) cannot make a rule backtrack quadratically. No `g` flag: RegExp#test must stay stateless.
export const SAFETY_RULES: Readonly<Record<SafetyCategory, readonly SafetyRule[]>> = {
  'pii-email': [
    {
      id: 'email',
      // example.com/.org/.net are reserved for documentation (RFC 2606), not anyone's address.
      pattern: /\b[A-Za-z0-9._%+-]{1,64}@(?!example\.(?:com|org|net)\b)(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b/,
    },
  ],
  'pii-phone': [
    // International, with the leading +: "+44 20 7946 0958", "+1 (555) 123-4567", "+4930123456".
    { id: 'international', pattern: /(?<![\w+])\+[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d){7,14}(?!\d)/ },
    // North American with separators; bare digit runs are too often IDs, amounts or dates.
    { id: 'north-american', pattern: /(?<!\w)(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}(?!\d)/ },
  ],
  credential: [
    { id: 'private-key', pattern: /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/ },
    { id: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
    {
      id: 'aws-secret-access-key',
      pattern: /aws_?secret_?access_?key["']?\s{0,5}[:=]\s{0,5}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/i,
    },
    { id: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/ },
    { id: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/ },
    { id: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/ },
    // OpenAI/Anthropic style; the digit lookahead spares hyphenated words like "sk-learn-...".
    { id: 'sk-api-key', pattern: /\bsk-(?=[A-Za-z0-9_-]{0,250}\d)[A-Za-z0-9_-]{32,250}/ },
  ],
  'self-harm': [
    {
      id: 'encouragement',
      pattern: /\b(?:you should|go|just|why don'?t you) (?:kill|hang|off) yourself\b/i,
    },
    {
      id: 'method',
      pattern:
        /\b(?:best|easiest|quickest|surest|most painless) (?:way|ways|method|methods) to (?:kill yourself|commit suicide|end your (?:own )?life)\b/i,
    },
  ],
};
