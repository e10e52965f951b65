package io.signalstream.api;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With no Kafka to talk to, the service still starts and says so: alive ({@code /health} 200) but
 * not ready ({@code /ready} 503 naming Kafka), and no API call ends in a stack trace.
 */
class ApiServerWithoutKafkaTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aliveButNotReadyWhenKafkaDoesNotAnswer() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        byte[] secret = "no-kafka-test-secret-of-32-bytes-or-more".getBytes(StandardCharsets.UTF_8);
        HttpClient http = HttpClient.newHttpClient();
        try (ApiServer api =
                ApiServer.start(
                        ApiOptions.defaults(
                                "127.0.0.1:" + closedPort, 0, JwtTokens.hs256(secret)))) {
            HttpResponse<String> health = get(http, api.url() + "/health");
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> ready = get(http, api.url() + "/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            JsonNode body = Json.MAPPER.readTree(ready.body());
            assertThat(body.path("status").asText()).isEqualTo("kafka_unreachable");
            assertThat(body.path("reason").asText()).contains("127.0.0.1:" + closedPort);
            HttpResponse<String> unknown = get(http, api.url() + "/no/such/thing");
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(Json.MAPPER.readTree(unknown.body()).path("error").asText())
                    .isEqualTo("not_found");
        }
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
