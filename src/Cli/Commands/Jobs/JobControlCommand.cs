using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job cancel|pause|resume ID [--reason TEXT] [-o …]</c>: one phase change, recorded with the reason.</summary>
public static class JobControlCommand
{
    public static Command BuildCancel(JobCommandOptions options) => Build(options, "cancel",
        "Cancel a job (any phase but a terminal one); workers stop at the next step.",
        (client, id, reason, deadline, ct) => client.CancelJobAsync(new CancelJobRequest { JobId = id, Reason = reason }, deadline: deadline, cancellationToken: ct).ResponseAsync);

    public static Command BuildPause(JobCommandOptions options) => Build(options, "pause",
        "Pause a Running job; workers hold at an agreed step.",
        (client, id, reason, deadline, ct) => client.PauseJobAsync(new PauseJobRequest { JobId = id, Reason = reason }, deadline: deadline, cancellationToken: ct).ResponseAsync);

    public static Command BuildResume(JobCommandOptions options) => Build(options, "resume",
        "Resume a Paused job.",
        (client, id, reason, deadline, ct) => client.ResumeJobAsync(new ResumeJobRequest { JobId = id, Reason = reason }, deadline: deadline, cancellationToken: ct).ResponseAsync);

    private delegate Task<Job> Call(JobService.JobServiceClient client, string jobId, string reason, DateTime deadline, CancellationToken cancellation);

    private static Command Build(JobCommandOptions options, string verb, string description, Call call)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id." };
        var reason = new Option<string?>("--reason") { Description = "Why; recorded in the job's transition." };
        var command = new Command(verb, description) { id, reason };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            return JobCalls.RunAsync(parse, options, jobId, async (connection, output, _, ct) =>
            {
                var job = await call(connection.Client, jobId, parse.GetValue(reason) ?? "", connection.Deadline(), ct);
                var format = parse.GetValue(options.Output);
                if (format == OutputFormat.Table)
                {
                    output.WriteLine($"{job.JobId}: {JobFormat.Phase(job.Phase)}: {job.PhaseReason}");
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
