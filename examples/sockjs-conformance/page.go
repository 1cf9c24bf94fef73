package main

import (
	"html"
	"strings"
)

// page is the page served at /: what the server mounts, and a small echo
// console that uses sockjs-client from the same URL as the iframe page.
func page(clientURL string) []byte {
	if clientURL == "" {
		clientURL = "https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js"
	}
	return []byte(strings.ReplaceAll(pageHTML, "{{client}}", html.EscapeString(clientURL)))
}

const pageHTML = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>tether: SockJS conformance server</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:2em;max-width:46em} code,pre{background:#eee;padding:0 .2em} #log{height:14em;overflow:auto;border:1px solid #ccc;padding:.4em}</style>
</head>
<body>
<h1>SockJS conformance server</h1>
<p>tether's SockJS dialect serves the services the official protocol suite expects:</p>
<ul>
<li><code>/echo</code>: echoes every message (response limit 4096 bytes)</li>
<li><code>/close</code>: closes every session at once with <code>3000 "Go away!"</code></li>
<li><code>/disabled_websocket_echo</code>: <code>/echo</code> without WebSocket</li>
<li><code>/cookie_needed_echo</code>: <code>/echo</code> with the <code>JSESSIONID</code> cookie</li>
</ul>
<p>Echo console over sockjs-client (loaded from <code>{{client}}</code>):
<select id="transport">
<option value="">best available</option>
<option>websocket</option><option>xhr-streaming</option><option>eventsource</option>
<option>iframe-eventsource</option><option>htmlfile</option><option>iframe-htmlfile</option>
<option>xhr-polling</option><option>iframe-xhr-polling</option><option>jsonp-polling</option>
</select>
<select id="service"><option>/echo</option><option>/close</option><option>/disabled_websocket_echo</option><option>/cookie_needed_echo</option></select>
<button id="connect">connect</button></p>
<form id="form"><input id="msg" size="40" value="100% \u2028 &quot;quoted&quot;"> <button>send</button></form>
<pre id="log"></pre>
<script src="{{client}}"></script>
<script>
var sock = null;
function log(s) { var l = document.getElementById('log'); l.textContent += s + '\n'; l.scrollTop = l.scrollHeight; }
document.getElementById('connect').onclick = function () {
  if (sock) sock.close();
  var t = document.getElementById('transport').value;
  sock = new SockJS(document.getElementById('service').value, null, t ? {transports: [t]} : {});
  sock.onopen = function () { log('open over ' + sock.transport); };
  sock.onmessage = function (e) { log('message: ' + JSON.stringify(e.data)); };
  sock.onclose = function (e) { log('close: ' + e.code + ' ' + JSON.stringify(e.reason)); sock = null; };
};
document.getElementById('form').onsubmit = function (e) {
  e.preventDefault();
  var v = document.getElementById('msg').value.replace(/\\u2028/g, '\u2028');
  if (sock) sock.send(v); else log('not connected');
};
</script>
</body>
</html>
`
