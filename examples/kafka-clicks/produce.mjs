// Produces click events to the example's topic (creating it with 3 partitions when missing):
//   node examples/kafka-clicks/produce.mjs HOST:PORT [COUNT]
// Run it from the Capstan checkout, whose node_modules holds the Kafka client.
import { Admin, Producer, stringSerializers } from "@platformatic/kafka";

const [bootstrap, countText = "250"] = process.argv.slice(2);
if (!bootstrap) {
  console.error("usage: node examples/kafka-clicks/produce.mjs HOST:PORT [COUNT]");
  process.exit(2);
}
const count = Number(countText);
const admin = new Admin({ clientId: "kafka-clicks-example", bootstrapBrokers: [bootstrap] });
if (!(await admin.listTopics()).includes("clicks")) await admin.createTopics({ topics: ["clicks"], partitions: 3, replicas: 1 });
await admin.close();
const pages = ["/", "/pricing", "/docs", "/blog"];
// Idempotent: a send retried after a slow answer is not written twice (each click lands once).
const producer = new Producer({ clientId: "kafka-clicks-example", bootstrapBrokers: [bootstrap], serializers: stringSerializers, idempotent: true });
await producer.send({
  messages: Array.from({ length: count }, (_, i) => ({ topic: "clicks", key: `user-${i % 17}`, value: JSON.stringify({ user: `user-${i % 17}`, page: pages[i % pages.length] }) })),
});
await producer.close();
console.log(`produced ${count} clicks to ${bootstrap}`);
