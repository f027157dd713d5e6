/*
 * Kafka's Java producer sending exactly the records a doge-connect task sends: the same topics,
 * partitions, keys, values and timestamps, read from a file that bench/kafka.py writes from the
 * engine's output (bench/java_producer.py documents the format). ProducerPerformance sends one
 * repeated payload with no key to one topic; this replays our workload, so the two ratios show
 * how much of the gap is the workload and how much is the client.
 *
 * usage: java -cp <kafka libs> bench/java/ReplayProducer.java FILE TRANSACTION_MS|0 TXN_ID|- KEY=VALUE...
 * prints one line: "<records> records sent, <rate> records/sec (<seconds> s)"
 */

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class ReplayProducer {
    private ReplayProducer() {}

    public static void main(String[] args) throws Exception {
        String file = args[0];
        long transactionMs = Long.parseLong(args[1]);
        String transactionalId = args[2];
        Properties props = new Properties();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        boolean transactions = transactionMs > 0;
        if (transactions) {
            props.put("transactional.id", transactionalId);
        }
        List<List<ProducerRecord<byte[], byte[]>>> parts = read(file);
        List<ProducerRecord<byte[], byte[]>> measured = parts.get(1);
        AtomicReference<Exception> failed = new AtomicReference<>();
        Callback callback = (metadata, exception) -> {
            if (exception != null) {
                failed.compareAndSet(null, exception);
            }
        };
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                props, new ByteArraySerializer(), new ByteArraySerializer())) {
            if (transactions) {
                producer.initTransactions();
                producer.beginTransaction();
            }
            // Untimed: connections, metadata, producer id, and one pass over the measured
            // records so that the JIT has compiled the client's send path (ours needs no JIT).
            for (List<ProducerRecord<byte[], byte[]>> records : parts) {
                for (ProducerRecord<byte[], byte[]> record : records) {
                    producer.send(record, callback);
                }
            }
            if (transactions) {
                producer.commitTransaction();
            } else {
                producer.flush();
            }
            long start = System.nanoTime();
            long transactionStart = start;
            if (transactions) {
                producer.beginTransaction();
            }
            // As ProducerPerformance: a transaction is committed once it has lasted
            // TRANSACTION_MS, checked after every record.
            for (ProducerRecord<byte[], byte[]> record : measured) {
                producer.send(record, callback);
                if (transactions) {
                    long now = System.nanoTime();
                    if (now - transactionStart >= transactionMs * 1_000_000L) {
                        producer.commitTransaction();
                        producer.beginTransaction();
                        transactionStart = now;
                    }
                }
            }
            if (transactions) {
                producer.commitTransaction();
            } else {
                producer.flush();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (failed.get() != null) {
                throw failed.get();
            }
            System.out.printf("%d records sent, %.1f records/sec (%.3f s)%n",
                    measured.size(), measured.size() / seconds, seconds);
        }
    }

    /** The warm-up records and the measured ones. */
    private static List<List<ProducerRecord<byte[], byte[]>>> read(String file) throws IOException {
        List<List<ProducerRecord<byte[], byte[]>>> parts = new ArrayList<>();
        Map<String, String> topics = new HashMap<>();
        try (DataInputStream in = new DataInputStream(
                new BufferedInputStream(new FileInputStream(file), 1 << 20))) {
            for (int p = 0; p < 2; p++) {
                int count = in.readInt();
                List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    String topic = new String(bytes(in, in.readInt()),
                            java.nio.charset.StandardCharsets.UTF_8);
                    topic = topics.computeIfAbsent(topic, t -> t);
                    int partition = in.readInt();
                    long timestamp = in.readLong();
                    int keyLength = in.readInt();
                    byte[] key = keyLength < 0 ? null : bytes(in, keyLength);
                    byte[] value = bytes(in, in.readInt());
                    records.add(new ProducerRecord<>(topic, partition, timestamp, key, value));
                }
                parts.add(records);
            }
        }
        return parts;
    }

    private static byte[] bytes(DataInputStream in, int length) throws IOException {
        byte[] out = new byte[length];
        in.readFully(out);
        return out;
    }
}
