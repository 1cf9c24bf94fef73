// A small EventTarget: addEventListener, removeEventListener and on…
// properties, as on WebSocket. Events are plain objects with type and
// target. A listener that throws does not stop the others or the client:
// its error is rethrown from a timer, where the page's error handlers see it.

import { G } from './env.js';

export class Emitter {
  constructor() {
    this._listeners = {};
  }

  addEventListener(type, fn) {
    const list = this._listeners[type] || (this._listeners[type] = []);
    if (fn && list.indexOf(fn) < 0) list.push(fn);
  }

  removeEventListener(type, fn) {
    const list = this._listeners[type];
    const i = list ? list.indexOf(fn) : -1;
    if (i >= 0) list.splice(i, 1);
  }

  _emit(type, props) {
    const ev = { type, target: this, currentTarget: this };
    for (const k in props) ev[k] = props[k];
    const on = this['on' + type];
    const list = (typeof on === 'function' ? [on] : []).concat(this._listeners[type] || []);
    for (let i = 0; i < list.length; i++) {
      try {
        if (typeof list[i] === 'function') list[i].call(this, ev);
        else list[i].handleEvent(ev);
      } catch (err) {
        G.setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}
