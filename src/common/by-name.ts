/**
 * Orders by `name`, in code unit order (as `<` compares strings): the one
 * order of every name-sorted list (pods, resources), so lists built in two
 * places agree.
 */
export function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
