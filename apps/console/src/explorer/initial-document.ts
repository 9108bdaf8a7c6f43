/** The document (and variables) a link opens the explorer with: `?query=...&variables=...`, as GraphiQL's classic examples read them. */
export interface InitialDocument {
  query?: string;
  variables?: string;
}

export function initialDocument(search: string): InitialDocument {
  const params = new URLSearchParams(search);
  const document: InitialDocument = {};
  const query = params.get('query');
  const variables = params.get('variables');
  if (query) document.query = query;
  if (variables) document.variables = variables;
  return document;
}
