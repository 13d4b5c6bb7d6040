// Runs apps/admin_toolkit/static/admin_toolkit/js/alpine-csp.js in Node against a compiled-expressions file
// and a minimal Alpine (the parts the evaluator uses: magics, data stack, mergeProxies with
// Alpine's `with`-friendly semantics). Reads cases as JSON on stdin, prints results as JSON.
//   node alpine_csp_harness.mjs <compiled.js> <alpine-csp.js> [script query] < cases.json
import fs from "node:fs";
import vm from "node:vm";

const [compiledPath, evaluatorPath, query = ""] = process.argv.slice(2);
const listeners = {};
const errors = [];
globalThis.window = globalThis;
globalThis.document = {
  addEventListener: (name, fn) => (listeners[name] = fn),
  // The <script> element the evaluator reads its query string from (?eval=allowed).
  currentScript: { src: `/static/admin_toolkit/js/alpine-csp.js${query}` },
};
console.error = (...args) => errors.push(args.map(String).join(" "));

// Alpine 3.16's mergeProxies, reduced: reads from the first object that has the key, writes
// to it (or the last), and hides Symbol.unscopables so `with (scope)` works.
function mergeProxies(objects) {
  const find = (name) => objects.find((o) => Object.prototype.hasOwnProperty.call(o, name) || Reflect.has(o, name));
  return new Proxy({}, {
    has: (_, name) => name !== Symbol.unscopables && find(name) !== undefined,
    get: (_, name) => (name === Symbol.unscopables ? undefined : find(name)?.[name]),
    set: (_, name, value) => {
      (find(name) || objects[objects.length - 1])[name] = value;
      return true;
    },
  });
}

const Alpine = {
  injectMagics: (obj, el) => Object.assign(obj, { $el: el }),
  closestDataStack: (el) => el.stack,
  mergeProxies,
  setEvaluator(fn) { this.evaluateLater = fn; },
  setRawEvaluator(fn) { this.evaluateRaw = fn; },
};
globalThis.Alpine = Alpine;

vm.runInThisContext(fs.readFileSync(compiledPath, "utf8"), { filename: compiledPath });
vm.runInThisContext(fs.readFileSync(evaluatorPath, "utf8"), { filename: evaluatorPath });
listeners["alpine:init"]();

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const results = [];
for (const c of cases) {
  const data = structuredClone(c.data || {});
  for (const name of c.functions || []) {
    // Functions cannot travel in JSON: a few known helpers by name.
    data[name] = {
      toggle() { this.open = !this.open; return "toggled"; },
      fetchIt: async () => 5,
      add: (a, b) => a + b,
    }[name];
  }
  const el = { stack: [data] };
  const received = [];
  const errorsBefore = errors.length;
  if (c.raw) {
    received.push(Alpine.evaluateRaw(el, c.expression, c.extras || {}));
  } else {
    Alpine.evaluateLater(el, c.expression)((value) => received.push(value), c.extras || {});
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const name of c.functions || []) delete data[name];
  results.push({ received, data, errors: errors.slice(errorsBefore) });
}
console.log(JSON.stringify(results));
