// TypeScript with types: Deno strips them, no build step.
interface Order { id: number; customer: string; total: number }

const orders: Order[] = Array.from({ length: 1000 }, (_, i) => ({
  id: i,
  customer: `c${i % 37}`,
  total: ((i * 7919) % 1000) / 10,
}));

const byCustomer = new Map<string, number>();
for (const o of orders) byCustomer.set(o.customer, (byCustomer.get(o.customer) ?? 0) + o.total);
const top = [...byCustomer].sort((a, b) => b[1] - a[1]).slice(0, 3);
console.log(JSON.stringify({ orders: orders.length, top }));
