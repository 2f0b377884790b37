import type { RubricInput } from '../src/config/rubric';

/**
 * A rubric as a legal team writes one for contract-review answers: a dozen criteria, each with
 * what passes and what does not. Its system prompt is past Claude 3.5 Haiku's 2,048-token
 * minimum for a prompt-cache prefix, unlike the three-line benchmark rubric, so the judge
 * benchmark measures prompt caching on both sides of that line.
 */
export const EXPERT_RUBRIC: RubricInput = {
  criteria: [
    ['governing_clause', 'The response names the clause of the agreement that governs the question (by number and heading, or by quoting its operative words) and does not rely on a clause that the facts make irrelevant, such as a termination clause for a question about payment terms.'],
    ['obligation_stated', 'The response states the obligation the governing clause creates in plain words: who must do what, by when, and to what standard. A paraphrase of the question, or a clause number without its substance, fails.'],
    ['party_identified', 'The response names the party that bears the obligation and the party that benefits from it, using the defined terms of the agreement (for example "the Supplier" and "the Customer") rather than "they" or "the other side".'],
    ['breach_consequence', 'The response explains what follows from a breach of the obligation: the remedy the agreement provides (damages, service credits, termination, specific performance), any cap or exclusion of liability that limits it, and whether notice is required first.'],
    ['cure_period', 'Where the agreement gives a cure period, the response states its length and when it starts to run (on notice, on breach, on discovery); where it gives none, the response says so rather than assuming the usual thirty days.'],
    ['waiver_distinction', 'The response distinguishes the case where the counterparty has waived the right in writing from the case where it has merely not enforced it, and explains the effect of any no-waiver clause in the agreement on that distinction.'],
    ['jurisdiction', 'The response identifies the governing law and jurisdiction clause and notes any point on which the answer would differ under another common governing law (for example English law against New York law on implied terms of good faith).'],
    ['reference_consistent', 'The response reaches the same conclusion as the reference answer on every point the reference decides; where it departs from the reference, it gives a reason grounded in the text of the agreement, not a general statement of law.'],
    ['no_invented_terms', 'The response does not invent terms, clause numbers, defined terms, dates or amounts that do not appear in the agreement or the question. Any assumption it needs is stated as an assumption, once, and is reasonable on the facts.'],
    ['risk_flagged', 'The response flags the main practical risk for the client (for example an automatic renewal about to trigger, a notice deadline that may already have passed, or an uncapped indemnity) and says what the client should do about it and by when.'],
    ['plain_language', 'The response is written in plain language that a business client without legal training can follow: legal terms are explained the first time they are used, sentences are short, and Latin phrases are avoided or translated.'],
    ['appropriate_length', 'The response is no longer than the question needs: at most about three hundred words for a single-issue question, with no restatement of the facts, no general disclaimers and no boilerplate about consulting a lawyer.'],
  ].map(([id, description]) => ({ id: id!, description: description! })),
};
