/**
 * The explorer page's script (explorer.ts serves it): GraphiQL sending the key and purpose the
 * developer entered with every request, its introspection included. Nothing is stored: GraphiQL
 * gets a storage that forgets, so the key, headers and queries leave with the page.
 */
(function start() {
  const memory = new Map();
  const forgetfulStorage = {
    getItem: (key) => (memory.has(key) ? memory.get(key) : null),
    setItem: (key, value) => {
      memory.set(key, String(value));
    },
    removeItem: (key) => {
      memory.delete(key);
    },
    clear: () => {
      memory.clear();
    },
    get length() {
      return memory.size;
    },
  };
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  const status = document.getElementById('status');
  let session = 0;

  document.getElementById('credentials').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = document.getElementById('api-key').value.trim();
    const purpose = document.getElementById('purpose').value.trim();
    const headers = { 'x-api-key': key };
    if (purpose) headers['x-credence-purpose'] = purpose;
    session += 1;
    memory.clear();
    status.textContent = `Exploring as the consumer of this key${purpose ? `, purpose ${purpose}` : ', its default purpose'}.`;
    root.render(
      React.createElement(GraphiQL, {
        key: session,
        fetcher: GraphiQL.createFetcher({ url: '/graphql', headers }),
        storage: forgetfulStorage,
        defaultQuery:
          '# Open the docs (the book icon) to see what this consumer may ask for.\n{\n  subject(uscc: "91110000600037341L") {\n    uscc\n    name\n  }\n}\n',
        shouldPersistHeaders: false,
        isHeadersEditorEnabled: false,
      }),
    );
  });
})();
