using System.CommandLine;
using System.Globalization;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job checkpoints ID [-o table|json|yaml]</c>: the committed checkpoints, oldest first.</summary>
public static class JobCheckpointsCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id." };
        var command = new Command("checkpoints", "List a job's committed checkpoints: step, epoch, metric, size, pinned, SHA-256.") { id };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            return JobCalls.RunAsync(parse, options, jobId, async (connection, output, _, ct) =>
            {
                var response = await connection.Client.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = jobId }, deadline: connection.Deadline(), cancellationToken: ct);
                var format = parse.GetValue(options.Output);
                if (format != OutputFormat.Table)
                {
                    ObjectOutput.Write(response, format, output);
                    return JobExitCodes.Ok;
                }

                output.WriteLine($"{"CHECKPOINT",-30} {"STEP",10} {"EPOCH",6} {"METRIC",10} {"SIZE",12} {"PINNED",6}  SHA256");
                foreach (var c in response.Checkpoints)
                {
                    var metric = c.HasMetric ? c.Metric.ToString("0.0000", CultureInfo.InvariantCulture) : "-";
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{c.CheckpointId,-30} {c.GlobalStep,10} {c.Epoch,6} {metric,10} {c.SizeBytes,12} {(c.Pinned ? "yes" : "no"),6}  {c.Sha256}"));
                }

                return JobExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }
}
