// A small MCP stdio server for the protocol corners the reference servers do
// not exercise (tests/unit/test_mcp_pool.c): tools/list pagination with
// nextCursor, noise on stdout, server-to-client requests, list_changed, a
// crash in the middle of a reply line, an oversized line.  Raw JSON-RPC, one
// message per line, no dependencies.
import { createInterface } from "node:readline";

const out = (m) => process.stdout.write(JSON.stringify(m) + "\n");
let changed = false;
const answers = {};
const pages = {
  "": { tools: ["alpha", "beta"], nextCursor: "p2" },
  p2: { tools: ["gamma"], nextCursor: "p3" },
  p3: { tools: ["delta"] },
};
const tool = (name) => ({ name, description: `the ${name} tool`, inputSchema: { type: "object" } });

createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.id !== undefined && m.method === undefined) { // a reply to our own request
    answers[m.id] = m;
    return;
  }
  switch (m.method) {
    case "initialize":
      out({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: { listChanged: true } }, serverInfo: { name: "edge", version: "1" } } });
      break;
    case "tools/list": {
      const cursor = m.params?.cursor ?? "";
      const page = pages[cursor];
      if (!page) return out({ jsonrpc: "2.0", id: m.id, error: { code: -32602, message: "bad cursor" } });
      if (cursor === "") {
        process.stdout.write("this line is not JSON-RPC\n");
        out({ jsonrpc: "2.0", id: "s1", method: "ping" });
        out({ jsonrpc: "2.0", id: "s2", method: "roots/list" });
      }
      const names = [...page.tools, ...(changed && !page.nextCursor ? ["epsilon"] : [])];
      out({ jsonrpc: "2.0", id: m.id, result: { tools: names.map(tool), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } });
      break;
    }
    case "tools/call": {
      const name = m.params.name;
      const reply = (text) => out({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text }] } });
      if (name === "answers") reply(JSON.stringify(answers));
      else if (name === "change") {
        changed = true;
        out({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
        reply("changed");
      } else if (name === "die_mid_line") {
        process.stdout.write(`{"jsonrpc":"2.0","id":${m.id},"res`, () => process.exit(3));
      } else if (name === "huge") {
        process.stdout.write(`{"jsonrpc":"2.0","id":${m.id},"result":{"x":"` + "x".repeat(17 * 1024 * 1024) + `"}}\n`);
      } else out({ jsonrpc: "2.0", id: m.id, error: { code: -32602, message: `unknown tool ${name}` } });
      break;
    }
    default:
      if (m.id !== undefined) out({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "no" } });
  }
});
