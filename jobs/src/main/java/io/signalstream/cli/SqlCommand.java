package io.signalstream.cli;

import io.signalstream.jobs.sql.QueryResult;
import io.signalstream.jobs.sql.ResultFormat;
import io.signalstream.jobs.sql.SqlRunner;

import org.apache.flink.configuration.Configuration;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code sql}: runs Flink SQL (a file or one statement) over the job's topics and prints the
 * result. This is the cluster's command (the operator's {@code signalstream-sql} deployment) and
 * needs {@code --bootstrap-servers}; the local build's subclass starts an in-process broker with
 * the demo data when it is missing ({@link #runWithoutKafka}).
 */
@Command(
        name = "sql",
        mixinStandardHelpOptions = true,
        description = {
            "Run Flink SQL over the SignalStream topics and print the result.",
            "The table DDL (sql/tables.sql) and the SQL functions (sql/functions.sql) are run"
                    + " first.",
            "By default queries are bounded: they read each topic up to its latest offset and end"
                    + " with the final answer (batch mode). --unbounded keeps reading and prints"
                    + " changes (+I, -U, +U, -D) until interrupted."
        })
public class SqlCommand implements Callable<Integer> {

    static final class Source {
        @Option(
                names = {"-f", "--file"},
                paramLabel = "FILE",
                required = true,
                description =
                        "SQL script: statements end with ';' at the end of a line, lines starting"
                                + " with '--' are comments.")
        Path file;

        @Option(
                names = {"-e", "--execute"},
                paramLabel = "SQL",
                required = true,
                description = "One or more statements, e.g. \"SELECT * FROM dead_letters\".")
        String sql;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOSTS",
            description =
                    "Kafka to query, e.g. kafka:9092 (in the local build, default: start the"
                            + " in-process broker with the demo data).")
    String bootstrapServers;

    @Option(
            names = "--format",
            paramLabel = "FORMAT",
            defaultValue = "table",
            description = "table, csv or json (one object per line) (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(
            names = "--unbounded",
            description =
                    "Keep reading new records (streaming mode) instead of stopping at the latest"
                            + " offsets.")
    boolean unbounded;

    @Option(
            names = "--var",
            paramLabel = "NAME=VALUE",
            description =
                    "Set a script variable $${NAME} (repeatable), e.g. --var reply.minutes=30.")
    Map<String, String> variables = new LinkedHashMap<>();

    @Option(
            names = "--init",
            paramLabel = "FILE",
            description =
                    "Scripts to run first (repeatable); default: tables.sql and functions.sql of"
                            + " --sql-dir.")
    List<Path> init = new ArrayList<>();

    @Option(
            names = "--sql-dir",
            paramLabel = "DIR",
            description =
                    "Directory of tables.sql and functions.sql; default: ./sql, else the sql/"
                            + " directory beside the jar's module.")
    Path sqlDir;

    @Mixin protected ConfigOptionsMixin config;

    @Override
    public Integer call() throws Exception {
        ResultFormat fmt;
        try {
            fmt = ResultFormat.of(format);
        } catch (IllegalArgumentException e) {
            System.err.println("error: --format must be table, csv or json");
            return 2;
        }
        String script =
                source.file != null
                        ? Files.readString(source.file, StandardCharsets.UTF_8)
                        : source.sql;
        List<Path> initScripts = init.isEmpty() ? defaultInit() : init;
        if (initScripts == null) {
            System.err.println(
                    "error: cannot find sql/tables.sql; give --sql-dir DIR or --init FILE");
            return 2;
        }
        quietFlinkClientWarnings();
        Configuration conf = config.load();
        try {
            return bootstrapServers != null
                    ? runSql(bootstrapServers, conf, initScripts, script, fmt)
                    : runWithoutKafka(conf, initScripts, script, fmt);
        } catch (SqlRunner.SqlStatementException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    /**
     * Runs the script when no {@code --bootstrap-servers} was given. On a cluster there is no Kafka
     * to fall back to: it prints an error and returns exit code 2.
     *
     * @return the command's exit code
     * @throws Exception when the query fails
     */
    protected int runWithoutKafka(
            Configuration conf, List<Path> initScripts, String script, ResultFormat fmt)
            throws Exception {
        System.err.println(
                "error: --bootstrap-servers is required (the in-process broker with the demo data"
                        + " is part of the local build, jobs/local/target/signalstream.jar)");
        return 2;
    }

    /**
     * Runs the init scripts, then the script, against the Kafka at {@code bootstrap}; prints each
     * result to standard output in {@code fmt}.
     *
     * @return the command's exit code (0)
     * @throws Exception when a statement fails
     */
    protected int runSql(
            String bootstrap,
            Configuration conf,
            List<Path> initScripts,
            String script,
            ResultFormat fmt)
            throws Exception {
        SqlRunner runner = new SqlRunner(!unbounded, bootstrap, variables, conf);
        for (Path p : initScripts) {
            runner.run(Files.readString(p, StandardCharsets.UTF_8));
        }
        PrintStream out = System.out;
        boolean firstResult = true;
        for (String statement : runner.statements(script)) {
            boolean[] first = {true};
            Optional<QueryResult> result =
                    runner.execute(
                            statement,
                            change -> {
                                fmt.printChange(change, first[0], out);
                                first[0] = false;
                            });
            if (result.isPresent()) {
                if (!firstResult && fmt == ResultFormat.TABLE) {
                    out.println();
                }
                fmt.print(result.get(), out);
                firstResult = false;
            }
        }
        return 0;
    }

    /**
     * Warnings that every bounded query logs and that say nothing to its user: the Kafka source
     * turning off partition discovery for a bounded read, the collect sink of a finished batch job
     * (or of one a LIMIT ended early), checkpointing skipped in batch mode.
     */
    private static void quietFlinkClientWarnings() {
        Configurator.setLevel(
                Map.of(
                        "org.apache.flink.connector.kafka.source.KafkaSourceBuilder", Level.ERROR,
                        "org.apache.flink.streaming.api.operators.collect.CollectResultFetcher",
                                Level.ERROR,
                        "org.apache.flink.streaming.api.operators.collect.CollectSinkOperatorCoordinator",
                                Level.ERROR,
                        "org.apache.flink.runtime.jobmaster.JobMaster", Level.ERROR));
    }

    /** tables.sql and functions.sql of --sql-dir, ./sql or the sql/ directory of the checkout. */
    private List<Path> defaultInit() {
        List<Path> candidates = new ArrayList<>();
        if (sqlDir != null) {
            candidates.add(sqlDir);
        } else {
            candidates.add(Path.of("sql"));
            // jobs/target/signalstream-job.jar, jobs/local/target/signalstream.jar (or their
            // target/classes) in a checkout: <checkout>/sql
            Path d = codeLocation().orElse(null);
            for (int i = 0; d != null && i < 5; i++, d = d.getParent()) {
                candidates.add(d.resolve("sql"));
            }
        }
        for (Path d : candidates) {
            if (Files.isRegularFile(d.resolve("tables.sql"))) {
                List<Path> out = new ArrayList<>();
                out.add(d.resolve("tables.sql"));
                if (Files.isRegularFile(d.resolve("functions.sql"))) {
                    out.add(d.resolve("functions.sql"));
                }
                return out;
            }
        }
        return null;
    }

    private static Optional<Path> codeLocation() {
        try {
            return Optional.of(
                    Path.of(
                                    SqlCommand.class
                                            .getProtectionDomain()
                                            .getCodeSource()
                                            .getLocation()
                                            .toURI())
                            .toAbsolutePath());
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
