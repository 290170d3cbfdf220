// A transport-level relay for bench/mcp/conformance.sh: Streamable HTTP (one
// session at a time, a fresh sluice-mcp per initialize) <-> an MCP server on
// stdio.  The official conformance suite tests servers only by URL; this lets
// it reach sluice-mcp.  Every JSON-RPC message is passed through unchanged, so
// the answers are the stdio server's own; HTTP-level checks (Host/Origin
// headers, SSE streams) test this relay, not the server.
//
//   node conformance-bridge.mjs PORT COMMAND [ARGS...]
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
const [port, cmd, ...args] = process.argv.slice(2);
if (!cmd) { console.error("usage: conformance-bridge.mjs PORT COMMAND [ARGS...]"); process.exit(2); }
let http, stdio;
async function fresh() {
  if (stdio) await stdio.close().catch(() => {});
  stdio = new StdioClientTransport({ command: cmd, args, stderr: "inherit" });
  http = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), enableJsonResponse: true });
  http.onmessage = (m) => stdio.send(m);
  stdio.onmessage = (m) => http.send(m, "id" in m ? { relatedRequestId: m.id } : undefined).catch((e) => console.error("relay:", e.message));
  await stdio.start();
  await http.start?.();
}
createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  let body;
  try {
    body = chunks.length ? JSON.parse(Buffer.concat(chunks)) : undefined;
  } catch {
    res.writeHead(400).end("not JSON");
    return;
  }
  if (req.method === "POST" && body?.method === "initialize") await fresh();
  if (!http) { res.writeHead(400).end(); return; }
  await http.handleRequest(req, res, body);
}).listen(Number(port), "127.0.0.1", () => console.error(`bridge on ${port}`));
