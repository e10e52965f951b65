package io.signalstream.jobs;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.llm.ProviderSettings;

import org.apache.flink.configuration.Configuration;

import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the LLM response log is wired into the job: its topic in the job's topic layout (only for
 * remote providers that keep one, retention = cache TTL) and the Kafka client properties (those
 * from the environment too) reaching the providers' settings.
 */
class ResponseLogWiringTest {

    private static NewTopic topic(List<NewTopic> topics, String name) {
        return topics.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }

    @Test
    void layoutHasTheResponseTopicOnlyForRemoteProvidersWithTheLogOn() {
        Configuration local = new Configuration();
        assertThat(topic(KafkaTopics.layout(local, 4, (short) 1), "support.llm-responses"))
                .isNull();

        Configuration conf = new Configuration();
        conf.set(AgentOptions.provider("sentiment"), "openai");
        conf.set(AgentOptions.provider("summary"), "vllm");
        conf.set(ProviderOptions.cacheTtl("openai"), Duration.ofMinutes(30));
        conf.set(ProviderOptions.cacheTtl("vllm"), Duration.ofHours(2));
        NewTopic t = topic(KafkaTopics.layout(conf, 4, (short) 1), "support.llm-responses");
        assertThat(t).isNotNull();
        assertThat(t.numPartitions()).isEqualTo(4);
        // Shared by both providers: kept for the longer TTL.
        assertThat(t.configs())
                .containsEntry("cleanup.policy", "compact,delete")
                .containsEntry("retention.ms", String.valueOf(Duration.ofHours(2).toMillis()));

        conf.set(ProviderOptions.responseLogTopic("vllm"), "vllm.responses");
        conf.set(ProviderOptions.responseLogEnabled("openai"), false);
        List<NewTopic> topics = KafkaTopics.layout(conf, 4, (short) 1);
        assertThat(topic(topics, "support.llm-responses")).isNull();
        assertThat(topic(topics, "vllm.responses")).isNotNull();

        conf.set(ProviderOptions.cacheSize("vllm"), 0);
        assertThat(topic(KafkaTopics.layout(conf, 4, (short) 1), "vllm.responses")).isNull();
    }

    @Test
    void kafkaPropertiesFromTheEnvironmentReachTheProviders() {
        Configuration conf = new Configuration();
        conf.set(JobOptions.BOOTSTRAP_SERVERS, "kafka:9093");
        conf.setString(JobOptions.KAFKA_PROPERTIES_PREFIX + "sasl.mechanism", "SCRAM-SHA-512");
        Properties props =
                JobConfigLoader.kafkaProperties(
                        conf,
                        Map.of(
                                "SIGNALSTREAM_KAFKA_SECURITY_PROTOCOL",
                                "SASL_SSL",
                                "SIGNALSTREAM_KAFKA_SASL_MECHANISM",
                                "PLAIN",
                                JobConfigLoader.ENV_SASL_USERNAME,
                                "job",
                                JobConfigLoader.ENV_SASL_PASSWORD,
                                "secret-pw"));

        Configuration jobConf = ConversationIntelligenceJob.withKafkaProperties(conf, props);

        Map<String, String> seen =
                ProviderSettings.from(jobConf, "openai").responseLog().kafkaProperties();
        assertThat(seen)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512") // the option wins
                .containsKey("sasl.jaas.config");
        assertThat(seen.get("sasl.jaas.config")).contains("username=\"job\"");
        // The caller's configuration is not changed, and the settings never print the secret.
        assertThat(conf.toMap())
                .doesNotContainKey("signalstream.kafka.properties.sasl.jaas.config");
        assertThat(ProviderSettings.from(jobConf, "openai").toString()).doesNotContain("secret-pw");
        assertThat(ProviderSettings.from(jobConf, "openai").responseLog().toString())
                .doesNotContain("secret-pw");
    }
}
