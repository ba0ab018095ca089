using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job submit SPEC [--name ID] [--watch]</c>: validate locally, then SubmitJob; prints the job id.</summary>
public static class JobSubmitCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var specPath = new Argument<string>("spec") { Description = "Job spec file (YAML, or JSON when named .json)." };
        var name = new Option<string?>("--name") { Description = "Job id (lower-case letters, digits, '-'); generated from spec.name when omitted." };
        var watch = new Option<bool>("--watch") { Description = "Follow the job after submitting it; the exit code is then the job's outcome (as for watch)." };
        var command = new Command("submit", "Validate a job spec locally and submit it to the coordinator; prints the job id.") { specPath, name, watch };
        command.SetAction((parse, cancellation) =>
        {
            var path = parse.GetValue(specPath)!;
            var (_, text, errors) = SpecCheck.Load(path);
            if (errors.Count > 0)
            {
                return Task.FromResult(SpecCheck.ReportErrors(path, errors, parse.InvocationConfiguration.Error));
            }

            var jobId = parse.GetValue(name);
            return JobCalls.RunAsync(parse, options, jobId, async (connection, output, error, ct) =>
            {
                var job = await connection.Client.SubmitJobAsync(new SubmitJobRequest { JobId = jobId ?? "", Spec = text }, deadline: connection.Deadline(), cancellationToken: ct);
                output.WriteLine(job.JobId);
                if (!parse.GetValue(watch))
                {
                    return JobExitCodes.Ok;
                }

                return await JobWatch.FollowAsync(connection, job.JobId, 0, output, error, ct);
            }, cancellation);
        });
        return command;
    }
}
