/**
 * GraphiQL's operation tabs are `<li role="tab">` items holding a button (and, with several tabs, a
 * close button): controls nested in a control, which screen readers cannot operate and axe reports
 * as serious (graphql/graphiql#3422, open). Until GraphiQL fixes them, the tabs get plain list
 * semantics: a list of buttons, the active one `aria-current`, the session a labelled region.
 * React sets these attributes only when it mounts a tab or its selection changes, so an observer
 * that rewrites them whenever they appear keeps them right.
 */
export function repairTabSemantics(root: HTMLElement): () => void {
  const repair = () => {
    for (const list of root.querySelectorAll('[role="tablist"]')) list.removeAttribute('role');
    for (const tab of root.querySelectorAll('li[role="tab"], li[aria-selected]')) {
      const selected = tab.getAttribute('aria-selected') === 'true';
      tab.removeAttribute('role');
      tab.removeAttribute('aria-selected');
      const button = tab.querySelector('button[aria-controls]');
      if (!button) continue;
      if (selected) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    for (const panel of root.querySelectorAll('[role="tabpanel"]')) panel.setAttribute('role', 'region');
  };
  repair();
  const observer = new MutationObserver(repair);
  observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['role', 'aria-selected'] });
  return () => observer.disconnect();
}
