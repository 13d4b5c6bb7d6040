/* ReDoc always renders its vendor's logo from their CDN (no option turns it off): under the
 * site's CSP that request is refused and logged as a violation on every visit. Loaded before
 * ReDoc, this points any image at that CDN to the site's own icon instead, so the page asks
 * nothing of another origin and the console stays clean. */
(function () {
  "use strict";
  var CDN = "https://cdn.redoc.ly/";
  var script = document.currentScript;
  var local = script && script.dataset.logo;
  if (!local) return;
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" &&
        String(value).indexOf(CDN) === 0) {
      value = local;
    }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      src.set.call(this, String(value).indexOf(CDN) === 0 ? local : value);
    },
  });
})();
