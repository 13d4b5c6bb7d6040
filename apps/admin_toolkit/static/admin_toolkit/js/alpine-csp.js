/* An Alpine.js evaluator that never compiles code, so the admin runs under a CSP without
 * 'unsafe-eval'. Alpine's own evaluator builds `new Function(...)` from each attribute; this one
 * looks the expression up in window.__alpineCompiled (alpine-expressions.js, generated from the
 * templates by scripts/alpine_expressions.py) and otherwise handles only shapes it can read
 * without eval: a name or dotted path, an assignment of x-model's value to one, JSON data.
 * Its behaviour (scope, magics, async results, auto-called functions, errors) mirrors Alpine
 * 3.16's normalEvaluator. Installed on `alpine:init`, before Alpine reads any attribute.
 * With ADMIN_CSP_ALLOW_UNSAFE_EVAL (the page then loads this file with ?eval=allowed), an
 * expression without a compiled form is compiled as Alpine would, instead of failing. */
(function () {
  "use strict";

  var compiled = window.__alpineCompiled || { exact: {}, patterns: [] };
  var patterns = compiled.patterns.map(function (entry) {
    return { regex: new RegExp(entry[0]), kinds: entry[1], fn: entry[2] };
  });
  var memo = new Map();
  // Set by the page (?eval=allowed) only when ADMIN_CSP_ALLOW_UNSAFE_EVAL lets the CSP allow it.
  var script = document.currentScript;
  var evalAllowed = /[?&]eval=allowed(&|$)/.test((script && script.src) || "");
  var PATH = /^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*$/;
  var SET_PATH = /^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*=\s*__placeholder\s*$/;

  function finish(self, value) {
    self.result = value;
    self.finished = true;
    return Promise.resolve(value);
  }

  function readPath(scope, names) {
    var value = names[0] in scope ? scope[names[0]] : window[names[0]];
    for (var i = 1; i < names.length && value !== undefined && value !== null; i++) {
      value = value[names[i]];
    }
    return value;
  }

  function fromPattern(expression) {
    for (var i = 0; i < patterns.length; i++) {
      var match = patterns[i].regex.exec(expression);
      if (!match) continue;
      var kinds = patterns[i].kinds;
      var base = patterns[i].fn;
      var holes = match.slice(1).map(function (value, n) {
        return kinds[n] === "v" ? JSON.parse(value) : value;
      });
      return function (self, scope) {
        return base.call(this, self, scope, holes);
      };
    }
    return null;
  }

  function fromShape(expression) {
    var path = PATH.exec(expression);
    if (path) {
      var names = path[1].split(".");
      return function (self, scope) {
        return finish(self, readPath(scope, names));
      };
    }
    var set = SET_PATH.exec(expression);
    if (set) {
      var target = set[1].split(".");
      return function (self, scope) {
        var value = scope.__placeholder;
        if (target.length === 1) {
          scope[target[0]] = value;
        } else {
          readPath(scope, target.slice(0, -1))[target[target.length - 1]] = value;
        }
        return finish(self, value);
      };
    }
    var trimmed = expression.trim();
    if (/^[{[]/.test(trimmed)) {
      try {
        JSON.parse(trimmed);
        return function (self) {
          return finish(self, JSON.parse(trimmed));
        };
      } catch (e) {
        return null;
      }
    }
    return null;
  }

  function lookup(expression, el) {
    if (memo.has(expression)) return memo.get(expression);
    var fn =
      (Object.prototype.hasOwnProperty.call(compiled.exact, expression) && compiled.exact[expression]) ||
      fromPattern(expression) ||
      fromShape(expression);
    if (!fn && evalAllowed) {
      // ADMIN_CSP_ALLOW_UNSAFE_EVAL: the page's CSP allows eval, so compile as Alpine would.
      var AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
      var statement = /^[\n\s]*if.*\(.*\)|^(let|const)\s/.test(expression.trim());
      var body = statement ? "(async()=>{ " + expression + " })()" : expression;
      fn = new AsyncFunction(
        "__self",
        "__scope",
        "with (__scope) { __self.result = " + body + "\n}; __self.finished = true; return __self.result;"
      );
    }
    if (!fn) {
      console.error(
        "Alpine expression has no compiled form (run scripts/alpine_expressions.py): " + expression,
        el
      );
      fn = function (self) {
        return finish(self, undefined);
      };
    }
    memo.set(expression, fn);
    return fn;
  }

  function handleError(error, el, expression) {
    error = Object.assign(error || { message: "No error message given." }, { el: el, expression: expression });
    console.warn("Alpine Expression Error: " + error.message + '\n\nExpression: "' + expression + '"\n\n', el);
    setTimeout(function () {
      throw error;
    }, 0);
  }

  function runIfFunction(receiver, value, scope, params, el) {
    if (typeof value === "function") {
      var result = value.apply(scope, params);
      if (result instanceof Promise) {
        result
          .then(function (i) {
            runIfFunction(receiver, i, scope, params);
          })
          .catch(function (error) {
            handleError(error, el, value);
          });
      } else {
        receiver(result);
      }
    } else if (typeof value === "object" && value instanceof Promise) {
      value.then(function (i) {
        receiver(i);
      });
    } else {
      receiver(value);
    }
  }

  function install(Alpine) {
    function dataStackOf(el) {
      var magics = {};
      Alpine.injectMagics(magics, el);
      return [magics].concat(Alpine.closestDataStack(el));
    }

    function evaluator(el, expression) {
      var dataStack = dataStackOf(el);
      var run;
      if (typeof expression === "function") {
        run = function (receiver, extras) {
          extras = extras || {};
          var result = expression.apply(Alpine.mergeProxies([extras.scope || {}].concat(dataStack)), extras.params || []);
          runIfFunction(receiver || function () {}, result);
        };
      } else {
        var fn = lookup(expression, el);
        run = function (receiver, extras) {
          receiver = receiver || function () {};
          extras = extras || {};
          var params = extras.params || [];
          var scope = Alpine.mergeProxies([extras.scope || {}].concat(dataStack));
          var self = { result: undefined, finished: false };
          var promise = fn.call(extras.context, self, scope).catch(function (error) {
            handleError(error, el, expression);
          });
          if (self.finished) {
            runIfFunction(receiver, self.result, scope, params, el);
          } else {
            promise
              .then(function (result) {
                runIfFunction(receiver, result, scope, params, el);
              })
              .catch(function (error) {
                handleError(error, el, expression);
              });
          }
        };
      }
      return function () {
        try {
          return run.apply(null, arguments);
        } catch (error) {
          handleError(error, el, expression);
        }
      };
    }

    function rawEvaluator(el, expression, extras) {
      extras = extras || {};
      var scope = Alpine.mergeProxies([extras.scope || {}].concat(dataStackOf(el)));
      var self = { result: undefined, finished: false };
      var promise = lookup(expression, el).call(extras.context, self, scope);
      if (!self.finished) return promise;
      if (typeof self.result === "function") return self.result.apply(scope, extras.params || []);
      return self.result;
    }

    Alpine.setEvaluator(evaluator);
    Alpine.setRawEvaluator(rawEvaluator);
  }

  document.addEventListener("alpine:init", function () {
    install(window.Alpine);
  });
})();
