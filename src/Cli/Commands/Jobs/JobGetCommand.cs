using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job get ID [-o table|json|yaml]</c>: one job in full.</summary>
public static class JobGetCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var id = new Argument<string>("id") { Description = "Job id (as printed by submit or list)." };
        var command = new Command("get", "Show a job: phase and reason, generation, epoch/step, lr, validation errors, LR decisions with reasons, checkpoint, transitions.") { id };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(id)!;
            return JobCalls.RunAsync(parse, options, jobId, async (connection, output, _, ct) =>
            {
                var job = await connection.Client.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: connection.Deadline(), cancellationToken: ct);
                var format = parse.GetValue(options.Output);
                if (format != OutputFormat.Table)
                {
                    ObjectOutput.Write(job, format, output);
                }
                else
                {
                    JobFormat.WriteDetails(job, output);
                }

                return JobExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }
}
