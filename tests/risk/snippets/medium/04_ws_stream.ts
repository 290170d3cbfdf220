// Stream quotes over a websocket and post a summary.
const ws = new WebSocket("wss://quotes.example.com/stream");
const prices: number[] = [];
ws.onmessage = (m) => { prices.push(JSON.parse(m.data).p); if (prices.length > 50) ws.close(); };
ws.onclose = async () => {
  await fetch("https://gateway.local/tools/notify", { method: "POST", body: JSON.stringify({ avg: prices.reduce((a, b) => a + b, 0) / prices.length }) });
};
