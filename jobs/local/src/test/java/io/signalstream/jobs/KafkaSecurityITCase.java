package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.kafka.KafkaPreflight;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.CommonTestUtils;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The job against a broker that requires TLS (a self-signed certificate made with the JDK's
 * keytool) and SASL/SCRAM-SHA-512, configured the way users configure it: Kafka client properties
 * from {@code SIGNALSTREAM_KAFKA_*} environment variables (the password never in a file or on a
 * command line). A wrong password is one clear error, and the password appears in no log line, not
 * even at INFO where the Kafka clients print their configuration.
 */
class KafkaSecurityITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir static Path tmp;

    static final String USER = "signalstream-job";
    static final String PASSWORD = "Zq8-unlikely-Pw-4711-xK";
    static final String WRONG_PASSWORD = "Wrong-Pw-0815-unlikely";

    private static EmbeddedKafkaBroker broker;
    private static int saslPort;
    private static final StringWriter LOG = new StringWriter();
    private static WriterAppender appender;

    @BeforeAll
    static void startSecuredBroker() throws Exception {
        makeKeyStores();
        // Picked right before the broker binds it (keytool above takes seconds).
        try (ServerSocket s = new ServerSocket(0)) {
            saslPort = s.getLocalPort();
        }
        Map<String, String> overrides = new HashMap<>();
        overrides.put(EmbeddedKafkaBroker.EXTRA_LISTENERS, "SASL://127.0.0.1:" + saslPort);
        overrides.put(
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL:SASL_SSL");
        overrides.put(
                "listener.name.sasl.ssl.keystore.location", tmp.resolve("broker.p12").toString());
        overrides.put("listener.name.sasl.ssl.keystore.password", STORE_PASSWORD);
        overrides.put("listener.name.sasl.ssl.keystore.type", "PKCS12");
        overrides.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        overrides.put(
                "listener.name.sasl.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"), 0, overrides);
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin a = Admin.create(admin)) {
            a.alterUserScramCredentials(
                            List.of(
                                    new UserScramCredentialUpsertion(
                                            USER,
                                            new ScramCredentialInfo(
                                                    ScramMechanism.SCRAM_SHA_512, 4096),
                                            PASSWORD)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        // Capture every log line, with the Kafka clients at INFO (where they print their config).
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        appender =
                WriterAppender.createAppender(
                        PatternLayout.newBuilder().withPattern("%c %m%n").build(),
                        null,
                        LOG,
                        "capture",
                        false,
                        true);
        appender.start();
        org.apache.logging.log4j.core.config.Configuration cfg = ctx.getConfiguration();
        cfg.addAppender(appender);
        cfg.getRootLogger().addAppender(appender, Level.ALL, null);
        // The Kafka clients at INFO into the capture only (not the console).
        cfg.removeLogger("org.apache.kafka");
        LoggerConfig kafka =
                LoggerConfig.newBuilder()
                        .withLoggerName("org.apache.kafka")
                        .withLevel(Level.INFO)
                        .withAdditivity(false)
                        .withConfig(cfg)
                        .build();
        kafka.addAppender(appender, Level.ALL, null);
        cfg.addLogger("org.apache.kafka", kafka);
        ctx.updateLoggers();
    }

    @AfterAll
    static void stop() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        if (appender != null) {
            org.apache.logging.log4j.core.config.Configuration cfg = ctx.getConfiguration();
            cfg.getRootLogger().removeAppender("capture");
            cfg.removeLogger("org.apache.kafka");
            ctx.updateLoggers();
            Configurator.setLevel("org.apache.kafka", Level.ERROR);
            appender.stop();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static final String STORE_PASSWORD = "store-pw-31337";

    /**
     * A self-signed broker certificate for 127.0.0.1 and a trust store holding it, made with the
     * JDK's keytool.
     */
    private static void makeKeyStores() throws Exception {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(
                keytool,
                "-genkeypair",
                "-alias",
                "broker",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-keystore",
                tmp.resolve("broker.p12").toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                STORE_PASSWORD);
        run(
                keytool,
                "-exportcert",
                "-alias",
                "broker",
                "-rfc",
                "-file",
                tmp.resolve("broker.pem").toString(),
                "-keystore",
                tmp.resolve("broker.p12").toString(),
                "-storepass",
                STORE_PASSWORD);
        run(
                keytool,
                "-importcert",
                "-noprompt",
                "-alias",
                "broker",
                "-file",
                tmp.resolve("broker.pem").toString(),
                "-keystore",
                tmp.resolve("trust.p12").toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                STORE_PASSWORD);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    }

    private static Map<String, String> env(String password) {
        return Map.of(
                "SIGNALSTREAM_KAFKA_SECURITY_PROTOCOL",
                "SASL_SSL",
                "SIGNALSTREAM_KAFKA_SASL_MECHANISM",
                "SCRAM-SHA-512",
                "SIGNALSTREAM_KAFKA_SSL_TRUSTSTORE_LOCATION",
                tmp.resolve("trust.p12").toString(),
                "SIGNALSTREAM_KAFKA_SSL_TRUSTSTORE_PASSWORD",
                STORE_PASSWORD,
                "SIGNALSTREAM_KAFKA_SSL_TRUSTSTORE_TYPE",
                "PKCS12",
                JobConfigLoader.ENV_SASL_USERNAME,
                USER,
                JobConfigLoader.ENV_SASL_PASSWORD,
                password);
    }

    private static String saslBootstrap() {
        return "127.0.0.1:" + saslPort;
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void jobRunsOverScramAndNoPasswordIsLogged() throws Exception {
        Configuration conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        conf.set(JobOptions.BOOTSTRAP_SERVERS, saslBootstrap());
        conf.set(JobOptions.GROUP_ID, "scram-itcase");

        // A wrong password: one clear error, naming the user but not the password.
        Properties wrong = JobConfigLoader.kafkaProperties(conf, env(WRONG_PASSWORD));
        assertThatThrownBy(() -> KafkaPreflight.check(saslBootstrap(), wrong, 20))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("authentication failed")
                .hasMessageContaining(USER)
                .hasMessageContaining("SCRAM-SHA-512")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(WRONG_PASSWORD));

        Properties props = JobConfigLoader.kafkaProperties(conf, env(PASSWORD));
        assertThat(props.getProperty("security.protocol")).isEqualTo("SASL_SSL");
        assertThat(props.getProperty("ssl.truststore.location")).endsWith("trust.p12");
        KafkaPreflight.check(saslBootstrap(), props, 20);
        KafkaTopics.create(saslBootstrap(), props, KafkaTopics.layout(conf, 2, (short) 1));

        var events =
                ConversationReplayer.toEvents(ConversationReplayer.readLines(null)).subList(0, 300);
        Set<String> expected = new HashSet<>();
        Map<String, Integer> counts = new HashMap<>();
        for (var e : events) {
            JsonNode n = Json.MAPPER.readTree(e.getValue());
            String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
            expected.add(key + "#" + counts.merge(key, 1, Integer::sum));
        }

        JobClient job =
                ConversationIntelligenceJob.kafka(conf, props)
                        .executeAsync(
                                StreamExecutionEnvironment.getExecutionEnvironment(conf),
                                "scram-itcase");
        try {
            ConversationReplayer.produce(
                    saslBootstrap(), props, conf.get(JobOptions.TOPIC_INPUT), events, 0, n -> {});
            var out =
                    KafkaOutputs.readCommitted(
                            broker.bootstrapServers(),
                            List.of("support.ai.aggregated"),
                            got -> got.get("support.ai.aggregated").size() >= expected.size(),
                            Duration.ofMinutes(2));
            List<String> ids = new ArrayList<>();
            out.get("support.ai.aggregated").forEach(a -> ids.add(RealData.versionId(a)));
            assertThat(ids).doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).isEqualTo(expected);
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
            CommonTestUtils.waitForJobStatus(job, List.of(JobStatus.CANCELED));
        }

        String log = LOG.toString();
        // The capture works: the clients printed their (masked) SASL configuration.
        assertThat(log)
                .contains("sasl.mechanism = SCRAM-SHA-512")
                .contains("sasl.jaas.config = [hidden]");
        assertThat(log)
                .doesNotContain(PASSWORD)
                .doesNotContain(WRONG_PASSWORD)
                .doesNotContain(STORE_PASSWORD);
        System.out.printf(
                "kafka security: %d aggregated records over SASL_SSL with SCRAM-SHA-512; %d log"
                        + " characters scanned, no password%n",
                expected.size(), log.length());
    }
}
