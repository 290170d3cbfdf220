// sluice prelude — the job's side of the MCP gateway (worker/gateway.c).
//
// Loaded before the job's program (deno run --preload=/work/sluice-prelude.ts),
// inside the jail, with the job's own permissions: it needs none, since it
// only writes to stdout and reads stdin.  It defines two globals:
//
//   tools.list()                      compact listing: [{name, description}]
//   tools.search(query, {detail})     detail: "name" | "description" | "signature" | "full"
//                                     signature: one TypeScript-like line per tool,
//                                     "memory.search_nodes(args: {query: string}): {...} // ..."
//   tools.describe(name)              full definition with inputSchema
//   tools.call(name, args)            raw MCP result {content, isError, ...}
//   mcp.<server>.<tool>(args)         structuredContent, else the text content
//                                     (JSON-parsed when it parses); throws on isError
//
// Channel: a request is one line on stdout, 0x1E "SLUICE-RPC " JSON "\n"; the
// answer is one JSON line on stdin, {"id", "result"} or {"id", "error":
// {"code", "message"}}.  The worker enforces the allowlist; nothing here is a
// security boundary.

const MARKER = "\x1eSLUICE-RPC ";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
const pending = new Map<number, Pending>();
let nextId = 1;
let reading = false;
let closed = false;
let carry = "";

export class ToolError extends Error {
  code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ToolError";
    this.code = code;
  }
}

function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

function settle(line: string): void {
  let msg: { id?: number; result?: unknown; error?: { code?: string; message?: string } };
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  const p = typeof msg.id === "number" ? pending.get(msg.id) : undefined;
  if (p === undefined) return;
  pending.delete(msg.id as number);
  if (msg.error) p.reject(new ToolError(msg.error.code ?? "failed", msg.error.message ?? "tool error"));
  else p.resolve(msg.result);
}

// Reads stdin only while answers are awaited, so that a job with no
// outstanding request can exit.
async function readLoop(): Promise<void> {
  if (reading) return;
  reading = true;
  const buf = new Uint8Array(65536);
  try {
    while (pending.size > 0) {
      const n = await Deno.stdin.read(buf);
      if (n === null) {
        closed = true;
        const err = new ToolError("unavailable", "tools are not available to this job (the worker's channel is closed)");
        for (const p of pending.values()) p.reject(err);
        pending.clear();
        break;
      }
      carry += decoder.decode(buf.subarray(0, n), { stream: true });
      let nl: number;
      while ((nl = carry.indexOf("\n")) >= 0) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        settle(line);
      }
    }
  } catch (e) {
    closed = true;
    const err = new ToolError("unavailable", `the worker's channel failed: ${e}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  } finally {
    reading = false;
  }
}

function request(method: string, params: Record<string, unknown>): Promise<unknown> {
  if (closed) {
    return Promise.reject(new ToolError("unavailable", "tools are not available to this job"));
  }
  const id = nextId++;
  const p = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  writeAll(encoder.encode(MARKER + JSON.stringify({ id, method, params }) + "\n"));
  readLoop();
  return p;
}

// name: "server.tool"; description: {name, description: first line};
// signature: "server.tool(args: {a: string; b?: number = 1}): Ret [destructive] // First sentence."
// (Ret: the output schema's type, "text" when there is none); full: ToolDefinition.
export type Detail = "name" | "description" | "signature" | "full";
export interface ToolSummary { name: string; description: string }
export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
}
export interface CallResult {
  content?: Array<{ type: string; text?: string; [k: string]: unknown }>;
  structuredContent?: unknown;
  isError?: boolean;
}

const toolsApi = {
  async list(server?: string): Promise<ToolSummary[]> {
    const r = await request("tools.list", server ? { server } : {}) as { tools: ToolSummary[] };
    return r.tools;
  },
  async search(query: string, opts: { detail?: Detail; limit?: number } = {}): Promise<Array<string | ToolSummary | ToolDefinition>> {
    const r = await request("tools.search", { query, detail: opts.detail ?? "description", ...(opts.limit ? { limit: opts.limit } : {}) }) as { tools: Array<string | ToolSummary | ToolDefinition> };
    return r.tools;
  },
  describe(name: string): Promise<ToolDefinition> {
    return request("tools.describe", { name }) as Promise<ToolDefinition>;
  },
  call(name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
    return request("tools.call", { name, args }) as Promise<CallResult>;
  },
};

function unwrap(name: string, r: CallResult): unknown {
  const text = (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text ?? "").join("\n");
  if (r.isError) throw new ToolError("tool_error", `${name}: ${text || "tool error"}`);
  if (r.structuredContent !== undefined) return r.structuredContent;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// deno-lint-ignore no-explicit-any
type ToolFn = (args?: Record<string, unknown>) => Promise<any>;
export const mcp: Record<string, Record<string, ToolFn>> = new Proxy({}, {
  get(_t, server) {
    if (typeof server !== "string" || server === "then") return undefined;
    return new Proxy({}, {
      get(_u, tool) {
        if (typeof tool !== "string" || tool === "then") return undefined;
        const name = `${server}.${tool}`;
        return async (args: Record<string, unknown> = {}) => unwrap(name, await toolsApi.call(name, args));
      },
    });
  },
});

declare global {
  // deno-lint-ignore no-var
  var tools: typeof toolsApi;
  // deno-lint-ignore no-var
  var mcp: Record<string, Record<string, ToolFn>>;
}
export { toolsApi as tools };
globalThis.tools = toolsApi;
globalThis.mcp = mcp;
