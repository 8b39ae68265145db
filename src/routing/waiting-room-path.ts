/**
 * The waiting room's live endpoint: a path under each app's prefix (so the
 * app's route matches it, and the queue cookie, scoped to the prefix, is
 * sent with it) that Check answers itself — it never reaches a pod. The
 * waiting-room page polls it; Check recognises it. One rule for both.
 */

/** The last segments of the endpoint, below the app's path prefix. */
export const WAITING_ROOM_SUFFIX = ".ticketplane/wait";

/** The endpoint's path for an app with `pathPrefix` ("/shiny/" → "/shiny/.ticketplane/wait"). */
export function waitingRoomPath(pathPrefix: string): string {
  return pathPrefix.endsWith("/") ? pathPrefix + WAITING_ROOM_SUFFIX : `${pathPrefix}/${WAITING_ROOM_SUFFIX}`;
}

/** True when `path` (query string allowed) is the endpoint of the app with `pathPrefix`. */
export function isWaitingRoomPath(path: string, pathPrefix: string): boolean {
  // Cheap test first: this runs on every Check.
  const q = path.indexOf("?");
  const bare = q < 0 ? path : path.slice(0, q);
  return bare.endsWith(WAITING_ROOM_SUFFIX) && bare === waitingRoomPath(pathPrefix);
}
