package io.signalstream.local;

import io.signalstream.local.EmbeddedKafkaBroker.TopicSpec;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Integration test of {@link EmbeddedKafkaBroker}: a real KRaft broker on loopback. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class EmbeddedKafkaBrokerTest {

    private static final String TOPIC = "events";

    @TempDir Path tempDir;

    @Test
    void transactionalRoundTripSurvivesRestartOnSamePortAndDirectory() throws Exception {
        Path logDir = tempDir.resolve("kafka");
        int port;
        String clusterId;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(logDir)) {
            port = broker.port();
            clusterId = broker.clusterId();
            assertThat(port).isPositive();
            assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            assertThat(broker.isRunning()).isTrue();
            assertThat(Files.exists(logDir.resolve("meta.properties"))).isTrue();

            broker.createTopics(Map.of(TOPIC, new TopicSpec(3, Map.of("retention.ms", "-1"))));
            // Idempotent: creating it again (and a new one alongside) is fine.
            broker.createTopics(Map.of(TOPIC, TopicSpec.of(3), "other", TopicSpec.of(1)));
            assertThat(describe(broker, TOPIC).partitions()).hasSize(3);

            try (KafkaProducer<String, String> producer = transactionalProducer(broker, "tx-1")) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, "k" + i, "committed-" + i));
                }
                producer.commitTransaction();

                producer.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, "k" + i, "aborted-" + i));
                }
                producer.flush();
                producer.abortTransaction();
            }

            assertThat(readCommitted(broker, TOPIC, 5))
                    .containsExactlyInAnyOrder(expected("committed-", 5).toArray(new String[0]));

            broker.stop();
            broker.stop(); // idempotent
            assertThat(broker.isRunning()).isFalse();
            assertThatThrownBy(() -> broker.createTopics(Map.of("late", TopicSpec.of(1))))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("stopped");
        }

        try (EmbeddedKafkaBroker restarted = EmbeddedKafkaBroker.start(logDir, port)) {
            assertThat(restarted.port()).isEqualTo(port);
            assertThat(restarted.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            assertThat(restarted.clusterId()).isEqualTo(clusterId);

            // Committed data survived, the aborted transaction is still invisible.
            assertThat(readCommitted(restarted, TOPIC, 5))
                    .containsExactlyInAnyOrder(expected("committed-", 5).toArray(new String[0]));
            // start() returned only once every existing partition was led again.
            assertThat(describe(restarted, TOPIC).partitions())
                    .hasSize(3)
                    .allSatisfy(
                            p ->
                                    assertThat(p.leader())
                                            .isNotNull()
                                            .matches(
                                                    leader -> !leader.isEmpty(), "is a real node"));

            try (KafkaProducer<String, String> producer =
                    transactionalProducer(restarted, "tx-1")) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int i = 0; i < 3; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, "n" + i, "after-restart-" + i));
                }
                producer.commitTransaction();
            }

            List<String> all = new ArrayList<>(expected("committed-", 5));
            all.addAll(expected("after-restart-", 3));
            assertThat(readCommitted(restarted, TOPIC, all.size()))
                    .containsExactlyInAnyOrder(all.toArray(new String[0]));
        }
    }

    @Test
    void explicitPortIsUsedAndOverridesApply() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        try (EmbeddedKafkaBroker broker =
                EmbeddedKafkaBroker.start(
                        tempDir.resolve("k2"), port, Map.of("num.partitions", "5"))) {
            assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            try (Admin admin = admin(broker)) {
                ConfigResource node =
                        new ConfigResource(
                                ConfigResource.Type.BROKER,
                                Integer.toString(EmbeddedKafkaBroker.NODE_ID));
                String value =
                        admin.describeConfigs(Set.of(node))
                                .all()
                                .get(30, TimeUnit.SECONDS)
                                .values()
                                .iterator()
                                .next()
                                .get("num.partitions")
                                .value();
                assertThat(value).isEqualTo("5");
            }
        }
    }

    @Test
    void portInUseFailsWithClearMessage() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> EmbeddedKafkaBroker.start(tempDir.resolve("busy"), port))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("127.0.0.1:" + port)
                    .hasRootCauseInstanceOf(BindException.class);
        }
    }

    @Test
    void restartOnSamePortWhileClientsStayConnected() throws Exception {
        Path logDir = tempDir.resolve("live");
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(logDir);
        int port = broker.port();
        ExecutorService restarter = Executors.newSingleThreadExecutor();
        Future<EmbeddedKafkaBroker> restarted = null;
        try {
            broker.createTopics(Map.of("live", TopicSpec.of(2)));
            Map<String, Object> conf = new HashMap<>();
            conf.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            conf.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 90_000);
            conf.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            conf.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 90_000);
            try (KafkaProducer<String, String> producer =
                    new KafkaProducer<>(conf, new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>("live", "k", "before"))
                        .get(30, TimeUnit.SECONDS);

                broker.stop();
                // The restart runs on another thread: once the client has lost every broker it
                // re-bootstraps and forgets the topic's metadata, so send() below may block in
                // the calling thread (up to max.block.ms) until the broker is back.
                restarted =
                        restarter.submit(
                                () -> {
                                    Thread.sleep(2_000);
                                    return EmbeddedKafkaBroker.start(logDir, port);
                                });
                Future<RecordMetadata> during =
                        producer.send(new ProducerRecord<>("live", "k", "during"));
                broker = restarted.get(120, TimeUnit.SECONDS);
                assertThat(broker.port()).isEqualTo(port);

                // The producer kept the record while the broker was down and delivers it to the
                // restarted broker on the same address.
                during.get(90, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>("live", "k", "after")).get(30, TimeUnit.SECONDS);
            }
            assertThat(readCommitted(broker, "live", 3))
                    .containsExactly("before", "during", "after");
        } finally {
            restarter.shutdownNow();
            broker.close();
            if (restarted != null && restarted.isDone() && !restarted.isCancelled()) {
                try {
                    restarted.get().close(); // a restart that finished after its wait timed out
                } catch (ExecutionException e) {
                    // it did not start: nothing to close
                }
            }
        }
    }

    private static TopicDescription describe(EmbeddedKafkaBroker broker, String topic)
            throws Exception {
        try (Admin admin = admin(broker)) {
            return admin.describeTopics(Set.of(topic))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .get(topic);
        }
    }

    private static Admin admin(EmbeddedKafkaBroker broker) {
        return Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    private static KafkaProducer<String, String> transactionalProducer(
            EmbeddedKafkaBroker broker, String transactionalId) {
        Map<String, Object> conf = new HashMap<>();
        conf.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        conf.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        conf.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        conf.put(ProducerConfig.ACKS_CONFIG, "all");
        conf.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
        conf.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        conf.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        conf.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaProducer<>(conf, new StringSerializer(), new StringSerializer());
    }

    /**
     * Reads the whole topic with {@code read_committed} up to the current end offsets (which, for
     * this isolation level, are the last stable offsets) and returns the values; it reads on, with
     * fresh end offsets, until at least {@code atLeast} values are seen, because {@code
     * commitTransaction()} returns once the commit is decided and the markers that move the last
     * stable offset are written just after.
     */
    private static List<String> readCommitted(
            EmbeddedKafkaBroker broker, String topic, int atLeast) {
        Map<String, Object> conf = new HashMap<>();
        conf.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        conf.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        conf.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        conf.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        conf.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(conf, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(p.topic(), p.partition()))
                            .collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!reachedEnd(consumer, end) || values.size() < atLeast) {
                assertThat(System.nanoTime())
                        .as(
                                "read_committed consumer reached end offsets %s"
                                        + " with at least %d values (has %d)",
                                end, atLeast, values.size())
                        .isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
                if (reachedEnd(consumer, end) && values.size() < atLeast) {
                    end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
                }
            }
        }
        return values;
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream()
                .allMatch(
                        e -> consumer.position(e.getKey(), Duration.ofSeconds(30)) >= e.getValue());
    }

    private static List<String> expected(String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(prefix + i);
        }
        return out;
    }
}
