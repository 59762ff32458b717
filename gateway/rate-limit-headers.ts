/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) for a consumer's two
 * windows, so that a client can slow down before it is refused:
 *
 *   RateLimit-Policy: "minute";q=600;w=60, "day";q=200000;w=86400
 *   RateLimit: "minute";r=598;t=42, "day";r=199871;t=51872
 *
 * q: requests the window allows, w: its length in seconds, r: requests left in it, t: seconds
 * until it starts again. A request refused for its rate was not counted against the day, so the
 * day is then left out of RateLimit (its policy still stands).
 */
export interface WindowCount {
  /** Requests counted in the window, this one included. */
  consumed: number;
  /** Milliseconds until the window ends. */
  msBeforeNext: number;
}

/** One window of a consumer's limits, and how it was counted for this request (absent: not counted). */
export interface WindowState {
  name: 'minute' | 'day';
  quota: number;
  windowSeconds: number;
  counted?: WindowCount;
}

export interface RateLimitState {
  windows: WindowState[];
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const left = state.windows.flatMap(({ name, quota, counted }) =>
    counted
      ? [
          `"${name}";r=${Math.max(0, quota - counted.consumed)};t=${Math.max(0, Math.ceil(counted.msBeforeNext / 1000))}`,
        ]
      : [],
  );
  return {
    'ratelimit-policy': state.windows
      .map(({ name, quota, windowSeconds }) => `"${name}";q=${quota};w=${windowSeconds}`)
      .join(', '),
    ratelimit: left.join(', '),
  };
}
