/**
 * Deterministic canary split: a smooth weighted round robin over two groups
 * (canary with weight W, stable with 100 − W). Exact in aggregate: of every
 * 100 picks, W go to the canary; picks are spread evenly, not bunched.
 */
export class CanarySplit {
  #canary = 0;
  #stable = 0;

  /**
   * True when this new ticket should go to the canary. Call only when both
   * groups have a free slot; otherwise take the group that has one without
   * calling, so an absent group does not build up a debt.
   */
  next(weightPercent: number): boolean {
    const w = Math.min(100, Math.max(0, weightPercent));
    this.#canary += w;
    this.#stable += 100 - w;
    if (this.#canary >= this.#stable) {
      this.#canary -= 100;
      return true;
    }
    this.#stable -= 100;
    return false;
  }
}
