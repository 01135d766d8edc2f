/** The rule that turns a network's P(male) into a call, shared by predict and the web page. */

export interface Verdict {
  /** P(male) at or above which a film is called M. */
  threshold: number;
  /** A call is uncertain when the larger of P(male) and P(female) is below this. */
  uncertainBelow: number;
}

export const DEFAULT_VERDICT: Verdict = { threshold: 0.5, uncertainBelow: 0.6 };

export interface Call {
  sex: 'F' | 'M';
  /** The probability of the called sex. */
  confidence: number;
  uncertain: boolean;
}

export function callFor(probMale: number, v: Verdict): Call {
  const sex = probMale >= v.threshold ? 'M' : 'F';
  return {
    sex,
    confidence: sex === 'M' ? probMale : 1 - probMale,
    uncertain: Math.max(probMale, 1 - probMale) < v.uncertainBelow,
  };
}
