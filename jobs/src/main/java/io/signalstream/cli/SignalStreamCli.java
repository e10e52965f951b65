package io.signalstream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line: {@code java -jar signalstream.jar <command>}.
 *
 * <ul>
 *   <li>{@code demo}: the whole system on this machine (in-process Kafka, MiniCluster) on real
 *       conversations
 *   <li>{@code run}: the job against an existing Kafka (and Flink, when submitted to a cluster)
 *   <li>{@code sql}: Flink SQL over the topics (bounded by default), printed as a table, CSV or JSON
 *   <li>{@code eval}: scores an agent provider on labelled data
 *   <li>{@code bench}: end-to-end throughput and latency against a loopback LLM
 * </ul>
 */
@Command(
        name = "signalstream",
        mixinStandardHelpOptions = true,
        version = "SignalStream 0.1.0",
        description = "Real-time conversation intelligence on Apache Flink.",
        subcommands = {DemoCommand.class, RunCommand.class, SqlCommand.class, EvalCommand.class, BenchCommand.class})
public final class SignalStreamCli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /**
     * Entry point; exits with the command's exit code. A {@code run} that ends normally returns
     * from {@code main} instead, so a Flink cluster that runs {@code main} (application mode) is
     * not asked to exit its JVM.
     */
    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new SignalStreamCli());
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
