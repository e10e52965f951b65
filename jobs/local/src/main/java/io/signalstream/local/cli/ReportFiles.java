package io.signalstream.local.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks a {@code --report} file before a long run rather than failing at its end. */
final class ReportFiles {

    private ReportFiles() {}

    /**
     * Creates the report's parent directories and checks they are writable.
     *
     * @param report the report file the command will write at its end
     * @return null when it can be written, else the problem, naming the path
     */
    static String prepare(Path report) {
        Path parent = report.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            return "cannot create the directory of --report " + report + ": " + e.getMessage();
        }
        if (!Files.isWritable(parent) || (Files.exists(report) && !Files.isWritable(report))) {
            return "cannot write --report " + report;
        }
        return null;
    }
}
