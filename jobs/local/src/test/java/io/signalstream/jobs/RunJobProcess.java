package io.signalstream.jobs;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The real {@code run} command in a JVM of its own, for the ITCases that kill it with SIGKILL
 * ({@link ProcessKillITCase}, {@link LlmResponseLogKillITCase}): starting it with RocksDB,
 * incremental checkpoints every second retained on cancellation, and finding the checkpoints it
 * completed to restart from.
 */
final class RunJobProcess {

    private RunJobProcess() {}

    /**
     * Starts {@code run} in a new JVM (700 MiB heap, the test class path, parallelism 2).
     *
     * @param bootstrap the broker's bootstrap servers
     * @param jobName the Flink job name
     * @param groupId the job's Kafka consumer group ({@code signalstream.kafka.group-id})
     * @param checkpoints where checkpoints are written and retained (two at most)
     * @param restoreFrom the checkpoint to restore, or {@code null} for a fresh start
     * @param log the file that receives the JVM's stdout and stderr
     * @param extraArgs further arguments of {@code run}, e.g. {@code --provider openai}
     * @return the started process; the caller destroys it
     */
    static Process start(
            String bootstrap,
            String jobName,
            String groupId,
            Path checkpoints,
            String restoreFrom,
            Path log,
            List<String> extraArgs)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath =
                System.getProperty(
                        "surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                java,
                                "-Xmx700m",
                                "-cp",
                                classpath,
                                "io.signalstream.cli.SignalStreamCli",
                                "run",
                                "--bootstrap-servers",
                                bootstrap,
                                "--job-name",
                                jobName,
                                "-D",
                                "parallelism.default=2",
                                "-D",
                                "state.backend.type=rocksdb",
                                "-D",
                                "execution.checkpointing.incremental=true",
                                "-D",
                                "execution.checkpointing.interval=1 s",
                                "-D",
                                "execution.checkpointing.dir=" + checkpoints.toUri(),
                                "-D",
                                "execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
                                "-D",
                                "execution.checkpointing.num-retained=2",
                                "-D",
                                "signalstream.kafka.group-id=" + groupId,
                                "-D",
                                "signalstream.kafka.transaction-timeout=60 s"));
        cmd.addAll(extraArgs);
        if (restoreFrom != null) {
            cmd.add("-D");
            cmd.add("execution.state-recovery.path=" + restoreFrom);
        }
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** The newest complete checkpoint (a chk-N directory holding _metadata) of any run. */
    static Optional<Path> latestCheckpoint(Path checkpoints) throws IOException {
        return metadataFiles(checkpoints).stream()
                .max(Comparator.comparingLong(p -> p.toFile().lastModified()))
                .map(Path::getParent);
    }

    /** How many complete checkpoints {@code checkpoints} holds now. */
    static int completedCheckpoints(Path checkpoints) throws IOException {
        return metadataFiles(checkpoints).size();
    }

    /**
     * The {@code _metadata} files up to three levels below {@code checkpoints}. The running job
     * deletes subsumed checkpoints meanwhile, so a file or directory that vanishes while it is
     * listed is skipped rather than failing the walk.
     */
    private static List<Path> metadataFiles(Path checkpoints) throws IOException {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(checkpoints)) {
            return found;
        }
        Files.walkFileTree(
                checkpoints,
                Set.of(),
                3,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                        if (file.getFileName().toString().equals("_metadata")) {
                            found.add(file);
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException e) {
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                        return FileVisitResult.CONTINUE;
                    }
                });
        return found;
    }
}
