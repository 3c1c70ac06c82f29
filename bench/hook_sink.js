// A cheap webhook endpoint for bench/webhooks.py's write mix (Node.js, no packages): answers
// every POST with 204 and counts them; GET /count says how many. Usage: node hook_sink.js PORT
const http = require("http");
let count = 0;
http
  .createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(String(count));
      return;
    }
    req.resume();
    req.on("end", () => {
      count += 1;
      res.writeHead(204);
      res.end();
    });
  })
  .listen(Number(process.argv[2]), "127.0.0.1");
