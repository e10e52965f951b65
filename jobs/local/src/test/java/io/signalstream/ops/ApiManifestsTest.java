package io.signalstream.ops;

import io.signalstream.api.JwtTokens;
import io.signalstream.config.JobOptions;
import io.signalstream.jobs.JobConfigLoader;
import io.signalstream.local.cli.LocalCli;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API service's manifests ({@code base/api-*.yaml}, the overlays' {@code api-patch.yaml},
 * {@code api.Dockerfile}) in every kustomize overlay: the Deployment runs the image's jar with
 * arguments the real CLI parses as {@code serve}, its probes point at {@code /ready} and {@code
 * /health} on the named HTTP port, the JWT secret comes from a Secret of the documented shape, it
 * talks to the job's Kafka with the job's security settings, the Service and the PodMonitor select
 * exactly the API pods (and the Flink PodMonitor does not).
 */
class ApiManifestsTest {

    private static final String JAR = "/opt/signalstream/signalstream.jar";

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/prod"})
    void apiDeploymentServiceAndPodMonitor(String dir) throws Exception {
        FlinkManifestsTest.load();
        List<ObjectNode> objects = Kustomize.build(OpsPaths.K8S.resolve(dir));
        Deployment d =
                (Deployment)
                        FlinkManifestsTest.bind(
                                Kustomize.find(objects, "Deployment", "signalstream-api"));
        Service svc =
                (Service)
                        FlinkManifestsTest.bind(
                                Kustomize.find(objects, "Service", "signalstream-api"));
        FlinkManifestsTest.PodMonitor pm =
                (FlinkManifestsTest.PodMonitor)
                        FlinkManifestsTest.bind(
                                Kustomize.find(objects, "PodMonitor", "signalstream-api"));
        FlinkManifestsTest.PodMonitor flinkPm =
                (FlinkManifestsTest.PodMonitor)
                        FlinkManifestsTest.bind(
                                Kustomize.find(objects, "PodMonitor", "signalstream"));

        // Replicas: stateless, scaled by replicas; never fewer than one.
        int replicas = d.getSpec().getReplicas();
        assertThat(replicas).isEqualTo(dir.endsWith("dev") ? 1 : 2);

        // The selector matches the pod template, and the template is the API's alone.
        Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
        Map<String, String> selector = d.getSpec().getSelector().getMatchLabels();
        assertThat(selector).isNotEmpty();
        assertThat(podLabels).containsAllEntriesOf(selector);
        assertThat(podLabels).doesNotContainKey("type");

        List<Container> containers = d.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).hasSize(1);
        Container c = containers.get(0);

        // The image's jar, started as `java … -jar JAR`, and the arguments the CLI parses.
        assertThat(c.getCommand()).first().isEqualTo("java");
        assertThat(c.getCommand()).endsWith("-jar", JAR);
        assertThat(c.getImage()).contains("signalstream-api");
        List<String> args = c.getArgs();
        CommandLine.ParseResult parsed =
                new CommandLine(new LocalCli()).parseArgs(args.toArray(String[]::new));
        assertThat(parsed.subcommand()).as("args %s", args).isNotNull();
        assertThat(parsed.subcommand().commandSpec().name()).isEqualTo("serve");
        String bootstrap =
                String.valueOf(
                        parsed.subcommand()
                                .<Object>matchedOptionValue("--bootstrap-servers", null));
        assertThat(bootstrap).matches("[A-Za-z0-9.-]+:\\d+(,[A-Za-z0-9.-]+:\\d+)*");
        Object port = parsed.subcommand().matchedOptionValue("--port", null);
        assertThat(port).as("--port").isNotNull();
        int httpPort = Integer.parseInt(String.valueOf(port));

        // The named port "http" is the one serve listens on.
        ContainerPort http =
                c.getPorts().stream()
                        .filter(p -> "http".equals(p.getName()))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no container port named http"));
        assertThat(http.getContainerPort()).isEqualTo(httpPort);

        // Probes: ready = view caught up, alive = HTTP answers; both on the named port.
        assertProbe(c.getReadinessProbe(), "/ready");
        assertProbe(c.getLivenessProbe(), "/health");

        // Resources: requests for scheduling, a memory limit (heap is a share of it).
        Map<String, Quantity> requests = c.getResources().getRequests();
        assertThat(requests).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKey("memory");
        assertThat(Quantity.getAmountInBytes(c.getResources().getLimits().get("memory")))
                .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(requests.get("memory")));

        // The JWT secret comes from the Secret (never a literal) of the documented shape.
        EnvVar jwt =
                c.getEnv().stream()
                        .filter(e -> e.getName().equals("SIGNALSTREAM_API_JWT_SECRET"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("SIGNALSTREAM_API_JWT_SECRET unset"));
        assertThat(jwt.getValue()).isNull();
        var ref = jwt.getValueFrom().getSecretKeyRef();
        assertThat(ref.getName()).isEqualTo("signalstream-api-jwt");
        assertThat(FlinkManifestsTest.secrets).containsKey(ref.getName());
        String example = FlinkManifestsTest.secrets.get(ref.getName()).get(ref.getKey());
        assertThat(example).as("example secret").isNotNull();
        assertThat(example.getBytes(StandardCharsets.UTF_8).length)
                .isGreaterThanOrEqualTo(JwtTokens.MIN_SECRET_BYTES);
        Map<String, String> env = new HashMap<>();
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null) {
                var r = e.getValueFrom().getSecretKeyRef();
                assertThat(FlinkManifestsTest.secrets).containsKey(r.getName());
                assertThat(FlinkManifestsTest.secrets.get(r.getName())).containsKey(r.getKey());
                env.put(e.getName(), FlinkManifestsTest.secrets.get(r.getName()).get(r.getKey()));
            } else {
                assertThat(e.getName())
                        .as("a secret as a literal value")
                        .doesNotContain("PASSWORD", "SECRET", "KEY");
                env.put(e.getName(), e.getValue());
            }
        }

        // The same Kafka as the job of the overlay, with the same security, and the Kafka
        // properties serve builds from its environment work (SCRAM login from the Secret).
        ObjectNode job = Kustomize.find(objects, "FlinkDeployment", "signalstream");
        List<String> jobArgs = new ArrayList<>();
        job.at("/spec/job/args").forEach(a -> jobArgs.add(a.asText()));
        assertThat(bootstrap).isEqualTo(jobArgs.get(jobArgs.indexOf("--bootstrap-servers") + 1));
        Configuration conf = new Configuration();
        conf.set(JobOptions.BOOTSTRAP_SERVERS, bootstrap);
        Properties kafka = JobConfigLoader.kafkaProperties(conf, env);
        String jobProtocol =
                job.at("/spec/flinkConfiguration")
                        .path("signalstream.kafka.properties.security.protocol")
                        .asText("PLAINTEXT");
        assertThat(kafka.getProperty("security.protocol", "PLAINTEXT")).isEqualTo(jobProtocol);
        if ("SASL_SSL".equals(jobProtocol)) {
            assertThat(kafka.getProperty("sasl.mechanism"))
                    .isEqualTo(
                            job.at("/spec/flinkConfiguration")
                                    .path("signalstream.kafka.properties.sasl.mechanism")
                                    .asText());
            assertThat(kafka.getProperty("sasl.jaas.config")).contains("ScramLoginModule");
        }

        // The Service reaches the API pods on the named port.
        assertThat(podLabels).containsAllEntriesOf(svc.getSpec().getSelector());
        ServicePort sp = svc.getSpec().getPorts().get(0);
        assertThat(sp.getTargetPort()).isEqualTo(new IntOrString("http"));

        // The PodMonitor scrapes /metrics on the API pods' named port; the Flink one does not
        // select them, and the API's selects no Flink pod.
        assertThat(podLabels).containsAllEntriesOf(pm.spec().selector().matchLabels());
        assertThat(pm.spec().podMetricsEndpoints()).hasSize(1);
        assertThat(pm.spec().podMetricsEndpoints().get(0).port()).isEqualTo("http");
        assertThat(pm.spec().podMetricsEndpoints().get(0).path()).isEqualTo("/metrics");
        assertThat(flinkPm.spec().selector().matchLabels())
                .as("the Flink PodMonitor's selector")
                .isNotEmpty();
        assertThat(podLabels.entrySet())
                .as("API pods selected by the Flink PodMonitor")
                .doesNotContainAnyElementsOf(flinkPm.spec().selector().matchLabels().entrySet());
        assertThat(pm.spec().selector().matchLabels())
                .doesNotContainEntry("type", "flink-native-kubernetes");

        // Same namespace for everything of the overlay.
        String ns = d.getMetadata().getNamespace();
        assertThat(svc.getMetadata().getNamespace()).isEqualTo(ns);
        assertThat(pm.metadata().namespace()).isEqualTo(ns);
        switch (dir) {
            case "base" -> assertThat(ns).isNull();
            case "overlays/dev" -> {
                assertThat(ns).isEqualTo("signalstream-dev");
                assertThat(c.getImage()).isEqualTo("signalstream-api:dev");
            }
            default -> {
                assertThat(ns).isEqualTo("signalstream-prod");
                assertThat(c.getImage()).startsWith("registry.example.com/");
            }
        }
    }

    private static void assertProbe(Probe probe, String path) {
        assertThat(probe).as("probe %s", path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort()).isEqualTo(new IntOrString("http"));
        assertThat(probe.getPeriodSeconds()).isPositive();
    }

    @Test
    void imageRunsTheLocalJarWhereTheDeploymentStartsIt() throws Exception {
        String docker =
                Files.readString(OpsPaths.K8S.resolve("api.Dockerfile"), StandardCharsets.UTF_8);
        assertThat(docker).containsPattern("(?m)^FROM eclipse-temurin:17-jre\\s*$");
        Matcher copy =
                Pattern.compile("(?m)^COPY\\s+(?:--\\S+\\s+)*(\\S+)\\s+(\\S+)\\s*$")
                        .matcher(docker);
        assertThat(copy.find()).as("a COPY line").isTrue();
        assertThat(copy.group(1)).isEqualTo("jobs/local/target/signalstream.jar");
        assertThat(copy.group(2)).isEqualTo(JAR);
        // The jar the image copies is the one the build makes (the local module's final name).
        assertThat(
                        Files.readString(
                                OpsPaths.REPO.resolve("jobs/local/pom.xml"),
                                StandardCharsets.UTF_8))
                .contains("<finalName>signalstream</finalName>");
        assertThat(docker).contains("\"-jar\", \"" + JAR + "\"");
        assertThat(docker).containsPattern("(?m)^USER 10001");
    }
}
