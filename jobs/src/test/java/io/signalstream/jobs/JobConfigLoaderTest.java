package io.signalstream.jobs;

import io.signalstream.jobs.kafka.KafkaPreflight;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobConfigLoaderTest {

    @TempDir Path tmp;

    @Test
    void kafkaPropertiesComeFromEnvironmentAndOptionsWithOptionsWinning() {
        Configuration conf = new Configuration();
        conf.setString("signalstream.kafka.properties.sasl.mechanism", "SCRAM-SHA-256");
        conf.setString("signalstream.kafka.properties.client.dns.lookup", "use_all_dns_ips");
        Properties p =
                JobConfigLoader.kafkaProperties(
                        conf,
                        Map.of(
                                "SIGNALSTREAM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                                "SIGNALSTREAM_KAFKA_SASL_MECHANISM", "PLAIN",
                                "SIGNALSTREAM_KAFKA_SASL_USERNAME", "svc",
                                "SIGNALSTREAM_KAFKA_SASL_PASSWORD", "p\"w",
                                "HOME", "/root"));
        assertThat(p.getProperty("security.protocol")).isEqualTo("SASL_SSL");
        assertThat(p.getProperty("sasl.mechanism")).isEqualTo("SCRAM-SHA-256");
        assertThat(p.getProperty("client.dns.lookup")).isEqualTo("use_all_dns_ips");
        assertThat(p.getProperty("sasl.jaas.config"))
                .isEqualTo(
                        "org.apache.kafka.common.security.scram.ScramLoginModule required"
                                + " username=\"svc\" password=\"p\\\"w\";");
        assertThat(p).doesNotContainKeys("sasl.username", "sasl.password", "home");
        assertThat(KafkaPreflight.user(p)).isEqualTo("svc");
    }

    @Test
    void credentialsWithoutAMechanismAreAClearError() {
        assertThatThrownBy(
                        () ->
                                JobConfigLoader.kafkaProperties(
                                        new Configuration(),
                                        Map.of(
                                                "SIGNALSTREAM_KAFKA_SASL_USERNAME",
                                                "svc",
                                                "SIGNALSTREAM_KAFKA_SASL_PASSWORD",
                                                "secret-value")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sasl.mechanism")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-value"));
    }

    @Test
    void configFileIsReadLikeFlinkDoesAndOverridesWin() throws Exception {
        Path file = tmp.resolve("job.yaml");
        Files.writeString(
                file, "signalstream:\n  agents:\n    timeout: 7 s\n  state:\n    ttl: 2 d\n");
        Configuration conf = JobConfigLoader.load(file, Map.of("signalstream.state.ttl", "3 d"));
        assertThat(conf.toMap())
                .containsEntry("signalstream.agents.timeout", "7 s")
                .containsEntry("signalstream.state.ttl", "3 d");
        assertThatThrownBy(() -> JobConfigLoader.load(tmp.resolve("missing.yaml"), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing.yaml");
    }
}
