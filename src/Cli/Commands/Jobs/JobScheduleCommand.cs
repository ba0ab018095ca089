using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// <c>plateau job schedule ID (--drop-now | --patience N | --factor F | --threshold T)… --reason TEXT [--operator NAME]</c>:
/// steer a running job's plateau schedule; the coordinator records who and why and applies it at the next epoch plan.
/// </summary>
public static class JobScheduleCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id." };
        var dropNow = new Option<bool>("--drop-now") { Description = "Multiply the learning rate by the factor at the next epoch plan." };
        var patience = new Option<int?>("--patience") { Description = "New plateau patience (evaluations without improvement before a drop)." };
        var factor = new Option<double?>("--factor") { Description = "New drop factor, in (0, 1)." };
        var threshold = new Option<double?>("--threshold") { Description = "New improvement threshold, ≥ 0." };
        var reason = new Option<string>("--reason") { Description = "Why; recorded with the decision and shown in watch and the report.", Required = true };
        var who = new Option<string>("--operator")
        {
            Description = "Who decides (default: $USER).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("USER") is { Length: > 0 } user ? user : Environment.UserName,
        };
        var command = new Command("schedule", "Change a running job's plateau schedule or force a learning-rate drop at the next epoch plan.")
        {
            id, dropNow, patience, factor, threshold, reason, who,
        };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            return JobCalls.RunAsync(parse, options, jobId, async (connection, output, _, ct) =>
            {
                var request = new UpdateScheduleRequest
                {
                    JobId = jobId,
                    Operator = parse.GetValue(who)!,
                    Reason = parse.GetValue(reason)!,
                    DropNow = parse.GetValue(dropNow),
                };
                if (parse.GetValue(patience) is { } p)
                {
                    request.Patience = p;
                }

                if (parse.GetValue(factor) is { } f)
                {
                    request.Factor = f;
                }

                if (parse.GetValue(threshold) is { } t)
                {
                    request.Threshold = t;
                }

                var job = await connection.Client.UpdateScheduleAsync(request, deadline: connection.Deadline(), cancellationToken: ct);
                var format = parse.GetValue(options.Output);
                if (format == OutputFormat.Table)
                {
                    var update = job.ScheduleUpdates[^1];
                    output.WriteLine($"{job.JobId}: schedule updated by {update.Operator}: {update.Reason}");
                }
                else
                {
                    ObjectOutput.Write(job, format, output);
                }

                return JobExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }
}
