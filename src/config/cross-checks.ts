/**
 * Rules across apps: app names unique per namespace, and no two apps on the
 * same host + pathPrefix (an app without host matches every host). Pod names
 * per app are checked where pods are read (app-fields.ts).
 */
import type { AppSpec, SpecError } from "./app-spec.js";
import { appKey } from "./app-spec.js";
import { specError } from "./spec-errors.js";

export interface PlacedApp {
  readonly spec: AppSpec;
  /** Path of the app in its source (`apps[1]`, `documents[2]`), for error messages. */
  readonly path: string;
  /** Paths of its name and pathPrefix fields. */
  readonly namePath: string;
  readonly prefixPath: string;
}

/** Returns, for each app that clashes with an earlier one, its index and the error. The first of a clash wins. */
export function findClashes(apps: readonly PlacedApp[]): { readonly index: number; readonly error: SpecError }[] {
  const clashes: { index: number; error: SpecError }[] = [];
  const names = new Map<string, PlacedApp>();
  const routes = new Map<string, PlacedApp>();
  apps.forEach((app, index) => {
    const key = appKey(app.spec.namespace, app.spec.name);
    const route = `${app.spec.host ?? "*"}${app.spec.pathPrefix}`;
    const sameName = names.get(key);
    const sameRoute = routes.get(route);
    if (sameName !== undefined) {
      clashes.push({ index, error: specError(app.namePath, app.spec.name, `must be unique in namespace "${app.spec.namespace}" (also ${sameName.path})`) });
    } else if (sameRoute !== undefined) {
      const where = app.spec.host === undefined ? "on every host" : `on host "${app.spec.host}"`;
      clashes.push({ index, error: specError(app.prefixPath, app.spec.pathPrefix, `must differ from the pathPrefix of ${sameRoute.path} (${sameRoute.spec.name}) ${where}`) });
    } else {
      names.set(key, app);
      routes.set(route, app);
    }
  });
  return clashes;
}
