// Call the weather API through the gateway and keep only what the model needs.
const res = await fetch("https://gateway.local/tools/weather?city=Paris");
const body = await res.json();
const days = body.forecast.slice(0, 3).map((d: { date: string; max: number }) => `${d.date}: ${d.max}C`);
console.log(days.join("\n"));
