package io.signalstream.ops;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository's operations files are, seen from the jobs module's tests. */
final class OpsPaths {

    /** The repository root (the parent of the jobs module). */
    static final Path REPO = findRepo();

    /** {@code k8s-operator/}. */
    static final Path K8S = REPO.resolve("k8s-operator");

    private OpsPaths() {}

    private static Path findRepo() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("flink-conf"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no flink-conf/ above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
