package io.signalstream.ops;

import io.signalstream.cli.SignalStreamCli;
import io.signalstream.jobs.JobConfigLoader;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.spec.FlinkDeploymentSpec;
import org.apache.flink.kubernetes.operator.api.spec.JobSpec;
import org.apache.flink.kubernetes.operator.api.spec.JobState;
import org.apache.flink.kubernetes.operator.api.spec.UpgradeMode;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The k8s-operator manifests: every file parses into the Flink Kubernetes Operator's model ({@code
 * flink-kubernetes-operator-api}) and the fabric8 Kubernetes model with unknown fields rejected;
 * every kustomize overlay renders the expected objects; every {@code flinkConfiguration} key is a
 * real option; the job arguments parse with the real CLI; the Secrets, ports and storage the pods
 * reference exist.
 *
 * <p>The operator API available here is 1.10.0, whose {@code FlinkVersion} enum ends at {@code
 * v1_20}; the manifests say {@code v2_0} (Flink 2.x). So {@code flinkVersion} alone is checked by
 * pattern and left out of the binding; every other field is bound strictly.
 */
class FlinkManifestsTest {

    static final ObjectMapper STRICT =
            new ObjectMapper(new YAMLFactory())
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                    .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                    // The operator's classes say @JsonIgnoreProperties(ignoreUnknown = true)
                    // for forward compatibility; here an unknown field must fail.
                    .setAnnotationIntrospector(
                            new JacksonAnnotationIntrospector() {
                                @Override
                                public JsonIgnoreProperties.Value findPropertyIgnoralByName(
                                        MapperConfig<?> config, Annotated a) {
                                    return super.findPropertyIgnoralByName(config, a)
                                            .withoutIgnoreUnknown();
                                }
                            });

    static final Map<String, Class<?>> MODEL =
            Map.of(
                    "FlinkDeployment", FlinkDeployment.class,
                    "ServiceAccount", ServiceAccount.class,
                    "Role", Role.class,
                    "RoleBinding", RoleBinding.class,
                    "PersistentVolumeClaim", PersistentVolumeClaim.class,
                    "Secret", Secret.class,
                    "PodMonitor", PodMonitor.class,
                    "Deployment", Deployment.class,
                    "Service", Service.class);

    static FlinkOptionRegistry registry;
    static Map<String, Map<String, String>> secrets;

    @BeforeAll
    static void load() throws Exception {
        registry = FlinkOptionRegistry.scan();
        secrets = new HashMap<>();
        for (ObjectNode doc : Kustomize.readAll(OpsPaths.K8S.resolve("secrets.example.yaml"))) {
            Secret s = (Secret) bind(doc);
            secrets.put(s.getMetadata().getName(), s.getStringData());
        }
    }

    /** The Prometheus Operator's PodMonitor, as far as these manifests use it. */
    record PodMonitor(String apiVersion, String kind, Metadata metadata, Spec spec) {
        record Metadata(String name, String namespace, Map<String, String> labels) {}

        record Spec(Selector selector, List<Endpoint> podMetricsEndpoints) {}

        record Selector(Map<String, String> matchLabels) {}

        record Endpoint(String port, String path, String interval) {}
    }

    /** Binds one object to its model class, strictly. */
    static Object bind(ObjectNode doc) throws Exception {
        String kind = doc.path("kind").asText();
        Class<?> type = MODEL.get(kind);
        assertThat(type).as("model class of kind %s", kind).isNotNull();
        ObjectNode copy = doc.deepCopy();
        if (type == FlinkDeployment.class) {
            JsonNode version = copy.with("spec").remove("flinkVersion");
            assertThat(version.asText()).matches("v2_\\d+");
        }
        Object o = STRICT.treeToValue(copy, type);
        List<String> unknown = new ArrayList<>();
        findAdditionalProperties(o, kind, unknown, new IdentityHashMap<>());
        assertThat(unknown).as("fields the model does not know").isEmpty();
        return o;
    }

    /** fabric8 objects keep unknown fields in additionalProperties instead of failing. */
    private static void findAdditionalProperties(
            Object o, String path, List<String> found, Map<Object, Boolean> seen) throws Exception {
        if (o == null || seen.containsKey(o)) {
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                findAdditionalProperties(e.getValue(), path + "." + e.getKey(), found, seen);
            }
            return;
        }
        if (o instanceof Iterable<?> it) {
            int i = 0;
            for (Object x : it) {
                findAdditionalProperties(x, path + "[" + i++ + "]", found, seen);
            }
            return;
        }
        if (o instanceof Enum<?> || !isModel(o.getClass())) {
            return;
        }
        seen.put(o, true);
        for (Class<?> c = o.getClass(); c != null && isModel(c); c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                    continue;
                }
                f.setAccessible(true);
                Object v = f.get(o);
                if (f.getName().equals("additionalProperties")
                        && v instanceof Map<?, ?> m
                        && !m.isEmpty()) {
                    found.add(path + ": " + m.keySet());
                } else {
                    findAdditionalProperties(v, path + "." + f.getName(), found, seen);
                }
            }
        }
    }

    private static boolean isModel(Class<?> c) {
        String pkg = c.getPackageName();
        return pkg.startsWith("io.fabric8") || pkg.startsWith("org.apache.flink.kubernetes");
    }

    @Test
    void strictBindingRejectsUnknownFields() throws Exception {
        ObjectNode fd = Kustomize.readAll(OpsPaths.K8S.resolve("base/flinkdeployment.yaml")).get(0);
        ObjectNode typo = fd.deepCopy();
        ((ObjectNode) typo.get("spec").get("job")).put("upgradeModes", "savepoint");
        assertThatThrownBy(() -> bind(typo)).hasMessageContaining("upgradeModes");
        ObjectNode podTypo = fd.deepCopy();
        ((ObjectNode) podTypo.at("/spec/podTemplate/spec/containers/0")).put("evn", "x");
        assertThatThrownBy(() -> bind(podTypo)).hasMessageContaining("evn");
        ObjectNode badEnum = fd.deepCopy();
        ((ObjectNode) badEnum.get("spec").get("job")).put("upgradeMode", "snapshot");
        assertThatThrownBy(() -> bind(badEnum)).hasMessageContaining("snapshot");
    }

    @Test
    void everyManifestFileBindsToTheModel() throws Exception {
        List<Path> files;
        try (var s = Files.walk(OpsPaths.K8S)) {
            files =
                    s.filter(
                                    p ->
                                            p.toString().endsWith(".yaml")
                                                    && !p.getFileName()
                                                            .toString()
                                                            .startsWith("kustomization"))
                            .filter(p -> !p.getFileName().toString().endsWith("-patch.yaml"))
                            .filter(p -> !p.getFileName().toString().startsWith("delete-"))
                            .toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(6);
        for (Path f : files) {
            for (ObjectNode doc : Kustomize.readAll(f)) {
                assertThat(bind(doc)).as("%s", f).isNotNull();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/prod"})
    void kustomizationBuildsValidObjects(String dir) throws Exception {
        List<ObjectNode> objects = Kustomize.build(OpsPaths.K8S.resolve(dir));
        List<String> expected =
                new ArrayList<>(
                        List.of(
                                "ServiceAccount/signalstream",
                                "Role/signalstream",
                                "RoleBinding/signalstream",
                                "PersistentVolumeClaim/signalstream-state",
                                "FlinkDeployment/signalstream",
                                "FlinkDeployment/signalstream-sql",
                                "PodMonitor/signalstream",
                                // The API service (checked in ApiManifestsTest).
                                "Deployment/signalstream-api",
                                "Service/signalstream-api",
                                "PodMonitor/signalstream-api"));
        if (dir.endsWith("prod")) {
            expected.remove("PersistentVolumeClaim/signalstream-state");
        }
        assertThat(Kustomize.ids(objects)).containsExactlyInAnyOrderElementsOf(expected);
        for (ObjectNode o : objects) {
            bind(o);
            assertThat(o.at("/metadata/labels/app.kubernetes.io~1part-of").asText())
                    .isEqualTo("signalstream");
        }
        FlinkDeployment job =
                (FlinkDeployment) bind(Kustomize.find(objects, "FlinkDeployment", "signalstream"));
        FlinkDeployment sql =
                (FlinkDeployment)
                        bind(Kustomize.find(objects, "FlinkDeployment", "signalstream-sql"));
        checkDeployment(job, objects, true);
        checkDeployment(sql, objects, false);

        JobSpec js = job.getSpec().getJob();
        assertThat(js.getUpgradeMode()).isEqualTo(UpgradeMode.SAVEPOINT);
        assertThat(sql.getSpec().getJob().getUpgradeMode()).isEqualTo(UpgradeMode.STATELESS);
        Map<String, String> fc = job.getSpec().getFlinkConfiguration();
        assertThat(fc).containsEntry("high-availability.type", "kubernetes");
        assertThat(fc.get("execution.checkpointing.externalized-checkpoint-retention"))
                .isEqualTo("RETAIN_ON_CANCELLATION");
        switch (dir) {
            case "base" -> {
                assertThat(js.getParallelism()).isEqualTo(2);
                assertThat(job.getMetadata().getNamespace()).isNull();
            }
            case "overlays/dev" -> {
                assertThat(job.getMetadata().getNamespace()).isEqualTo("signalstream-dev");
                assertThat(js.getParallelism()).isEqualTo(1);
                assertThat(job.getSpec().getImage()).isEqualTo("signalstream:dev");
                assertThat(fc)
                        .containsEntry("taskmanager.numberOfTaskSlots", "1")
                        .doesNotContainKey("signalstream.kafka.properties.sasl.mechanism");
            }
            default -> {
                assertThat(job.getMetadata().getNamespace()).isEqualTo("signalstream-prod");
                assertThat(js.getParallelism()).isEqualTo(4);
                assertThat(job.getSpec().getJobManager().getReplicas()).isEqualTo(2);
                assertThat(job.getSpec().getImage()).startsWith("registry.example.com/");
                assertThat(sql.getSpec().getImage()).isEqualTo(job.getSpec().getImage());
                assertThat(fc.get("execution.checkpointing.dir")).startsWith("s3://");
                assertThat(job.getSpec().getPodTemplate().getSpec().getVolumes()).isNullOrEmpty();
                assertThat(env(job))
                        .containsEntry("ENABLE_BUILT_IN_PLUGINS", "flink-s3-fs-presto-2.2.1.jar");
                RoleBinding rb =
                        (RoleBinding) bind(Kustomize.find(objects, "RoleBinding", "signalstream"));
                assertThat(rb.getSubjects().get(0).getNamespace()).isEqualTo("signalstream-prod");
            }
        }
    }

    /** What must hold of every deployment in every overlay. */
    private static void checkDeployment(
            FlinkDeployment d, List<ObjectNode> objects, boolean stateful) throws Exception {
        FlinkDeploymentSpec spec = d.getSpec();
        String name = d.getMetadata().getName();
        // Every flinkConfiguration key is a real option with a value it parses.
        List<String> problems = new ArrayList<>();
        spec.getFlinkConfiguration().forEach((k, v) -> problems.addAll(registry.check(k, v)));
        assertThat(problems).as(name).isEmpty();
        Configuration conf = Configuration.fromMap(spec.getFlinkConfiguration());

        // The job: the shaded jar in usrlib, the CLI's main class, arguments the CLI accepts.
        JobSpec job = spec.getJob();
        assertThat(job.getJarURI()).isEqualTo("local:///opt/flink/usrlib/signalstream.jar");
        assertThat(job.getEntryClass()).isEqualTo(SignalStreamCli.class.getName());
        assertThat(job.getState()).isEqualTo(JobState.RUNNING);
        CommandLine.ParseResult args =
                new CommandLine(new SignalStreamCli()).parseArgs(job.getArgs());
        assertThat(args.subcommand()).as("%s args %s", name, List.of(job.getArgs())).isNotNull();
        assertThat(args.subcommand().commandSpec().name()).isEqualTo(stateful ? "run" : "sql");
        assertThat(
                        String.valueOf(
                                args.subcommand()
                                        .<Object>matchedOptionValue("--bootstrap-servers", null)))
                .contains(":");
        if (!stateful) {
            String file =
                    String.valueOf(args.subcommand().<Object>matchedOptionValue("--file", null));
            assertThat(file).startsWith("/opt/flink/usrlib/sql/");
            assertThat(OpsPaths.REPO.resolve(file.substring("/opt/flink/usrlib/".length())))
                    .isRegularFile();
        }

        // Resources; the TaskManager of the job is the 2 GiB one config.yaml is sized for.
        assertThat(spec.getJobManager().getResource().getMemory()).isNotBlank();
        assertThat(spec.getTaskManager().getResource().getCpu()).isPositive();
        if (stateful) {
            assertThat(MemorySize.parse(spec.getTaskManager().getResource().getMemory()))
                    .isEqualTo(
                            GlobalConfiguration.loadConfiguration(
                                            OpsPaths.REPO.resolve("flink-conf").toString())
                                    .get(
                                            org.apache.flink.configuration.TaskManagerOptions
                                                    .TOTAL_PROCESS_MEMORY));
            // Checkpoint, savepoint and HA directories on durable storage: S3, or a PVC mount.
            for (ConfigOption<String> o :
                    List.of(
                            CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                            CheckpointingOptions.SAVEPOINT_DIRECTORY)) {
                assertDurable(d, objects, conf.get(o));
            }
            assertDurable(
                    d, objects, spec.getFlinkConfiguration().get("high-availability.storageDir"));
            assertThat(env(d)).containsKey("SIGNALSTREAM_LLM_API_KEY");
        }

        // Secrets referenced exist (in the documented shape) and the Kafka settings work with them.
        Map<String, String> env = env(d);
        Container c = mainContainer(d);
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null) {
                var ref = e.getValueFrom().getSecretKeyRef();
                assertThat(secrets).containsKey(ref.getName());
                assertThat(secrets.get(ref.getName())).containsKey(ref.getKey());
            }
        }
        Properties kafka = JobConfigLoader.kafkaProperties(conf, env);
        if ("SASL_SSL".equals(kafka.getProperty("security.protocol"))) {
            assertThat(kafka.getProperty("sasl.jaas.config")).as(name).contains("ScramLoginModule");
        }

        // The PodMonitor scrapes a named container port that is the reporter's port.
        PodMonitor pm = (PodMonitor) bind(Kustomize.find(objects, "PodMonitor", "signalstream"));
        String portName = pm.spec().podMetricsEndpoints().get(0).port();
        ContainerPort port =
                c.getPorts().stream()
                        .filter(p -> portName.equals(p.getName()))
                        .findFirst()
                        .orElseThrow();
        assertThat(String.valueOf(port.getContainerPort()))
                .isEqualTo(spec.getFlinkConfiguration().get("metrics.reporter.prom.port"));
        assertThat(pm.spec().selector().matchLabels())
                .containsEntry("type", "flink-native-kubernetes");
    }

    private static void assertDurable(FlinkDeployment d, List<ObjectNode> objects, String uri)
            throws Exception {
        assertThat(uri).as("directory").isNotBlank();
        if (uri.startsWith("s3://")) {
            return;
        }
        assertThat(uri).startsWith("file:///");
        String path = uri.substring("file://".length());
        VolumeMount mount =
                mainContainer(d).getVolumeMounts().stream()
                        .filter(m -> path.startsWith(m.getMountPath() + "/"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(uri + " is on no volume"));
        Volume v =
                d.getSpec().getPodTemplate().getSpec().getVolumes().stream()
                        .filter(x -> x.getName().equals(mount.getName()))
                        .findFirst()
                        .orElseThrow();
        String claim = v.getPersistentVolumeClaim().getClaimName();
        PersistentVolumeClaim pvc =
                (PersistentVolumeClaim)
                        bind(Kustomize.find(objects, "PersistentVolumeClaim", claim));
        assertThat(pvc.getSpec().getAccessModes()).contains("ReadWriteMany");
    }

    private static Container mainContainer(FlinkDeployment d) {
        return d.getSpec().getPodTemplate().getSpec().getContainers().stream()
                .filter(c -> c.getName().equals("flink-main-container"))
                .findFirst()
                .orElseThrow();
    }

    /** The container's environment, Secret references resolved from secrets.example.yaml. */
    private static Map<String, String> env(FlinkDeployment d) {
        Map<String, String> env = new HashMap<>();
        for (EnvVar e :
                mainContainer(d).getEnv() == null ? List.<EnvVar>of() : mainContainer(d).getEnv()) {
            if (e.getValueFrom() != null) {
                var ref = e.getValueFrom().getSecretKeyRef();
                env.put(
                        e.getName(),
                        secrets.getOrDefault(ref.getName(), Map.of()).get(ref.getKey()));
            } else {
                env.put(e.getName(), e.getValue());
            }
        }
        return env;
    }

    @Test
    void baseDeploymentRepeatsConfigYaml() throws Exception {
        Configuration file =
                GlobalConfiguration.loadConfiguration(
                        OpsPaths.REPO.resolve("flink-conf").toString());
        FlinkDeployment d =
                (FlinkDeployment)
                        bind(
                                Kustomize.readAll(OpsPaths.K8S.resolve("base/flinkdeployment.yaml"))
                                        .get(0));
        Map<String, String> fc = d.getSpec().getFlinkConfiguration();
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : fc.entrySet()) {
            if (file.containsKey(e.getKey())
                    && !registry.find(e.getKey()).key().equals(e.getKey())) {
                if (!e.getValue().equals(file.getString(e.getKey(), null))) {
                    differ.add(
                            e.getKey()
                                    + ": "
                                    + e.getValue()
                                    + " vs "
                                    + file.getString(e.getKey(), null));
                }
            } else if (file.containsKey(e.getKey())) {
                ConfigOption<?> o = registry.find(e.getKey());
                Configuration mine = new Configuration();
                mine.setString(o.key(), e.getValue());
                if (!String.valueOf(mine.get(o)).equals(String.valueOf(file.get(o)))) {
                    differ.add(
                            e.getKey()
                                    + ": "
                                    + e.getValue()
                                    + " vs "
                                    + file.getString(o.key(), null));
                }
            }
        }
        assertThat(differ).isEmpty();
        // The settings that make it exactly-once and observable are all repeated.
        assertThat(fc.keySet())
                .containsAll(
                        Set.of(
                                "execution.checkpointing.mode",
                                "execution.checkpointing.interval",
                                "execution.checkpointing.incremental",
                                "state.backend.type",
                                "restart-strategy.type",
                                "metrics.reporter.prom.factory.class"));
    }
}
