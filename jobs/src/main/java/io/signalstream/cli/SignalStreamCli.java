package io.signalstream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The cluster's command line, the entry class of {@code signalstream-job.jar} on a Flink cluster:
 *
 * <ul>
 *   <li>{@code run}: the job against an existing Kafka (and Flink, when submitted to a cluster)
 *   <li>{@code sql}: Flink SQL over the topics (bounded by default), printed as a table, CSV or
 *       JSON
 * </ul>
 *
 * <p>The local build ({@code io.signalstream.local.cli.LocalCli}) adds {@code demo}, {@code eval}
 * and {@code bench} and runs the same commands on a MiniCluster.
 */
@Command(
        name = "signalstream",
        mixinStandardHelpOptions = true,
        version = "SignalStream 0.1.0",
        description = "Real-time conversation intelligence on Apache Flink.",
        subcommands = {RunCommand.class, SqlCommand.class})
public final class SignalStreamCli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /**
     * Entry point; exits with the command's exit code. A {@code run} that ends normally returns
     * from {@code main} instead, so a Flink cluster that runs {@code main} (application mode) is
     * not asked to exit its JVM.
     */
    public static void main(String[] args) {
        execute(new CommandLine(new SignalStreamCli()), args);
    }

    /**
     * Runs a command line and exits the JVM with its exit code, except after a {@code run} that
     * ended normally (see {@link #main}).
     *
     * @param cli the command line, with its subcommands
     * @param args the arguments
     */
    public static void execute(CommandLine cli, String[] args) {
        int code = cli.execute(args);
        CommandLine.ParseResult parsed = cli.getParseResult();
        boolean run =
                parsed != null
                        && parsed.hasSubcommand()
                        && "run".equals(parsed.subcommand().commandSpec().name());
        if (code != 0 || !run) {
            System.exit(code);
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
