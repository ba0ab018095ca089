using System.CommandLine;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job submit SPEC [--name ID] [--request-id R] [--watch] [-o …]</c>: validate locally, then SubmitJob; prints the job id (-o json|yaml: the Job).</summary>
public static class JobSubmitCommand
{
    public static Command Build(JobCommandOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var specPath = new Argument<string>("spec") { Description = "Job spec file (YAML, or JSON when named .json)." };
        var name = new Option<string?>("--name") { Description = "Job id (lower-case letters, digits, '-'); generated from spec.name when omitted." };
        var requestId = new Option<string?>("--request-id") { Description = "Client request id: a retry with the same id and spec answers the same job instead of creating another." };
        var watch = new Option<bool>("--watch") { Description = "Follow the job after submitting it; the exit code is then the job's outcome (as for watch)." };
        var command = new Command("submit", "Validate a job spec locally and submit it to the coordinator; prints the job id.") { specPath, name, requestId, watch };
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
                var request = new SubmitJobRequest { JobId = jobId ?? "", Spec = text, RequestId = parse.GetValue(requestId) ?? "" };
                var job = await connection.Client.SubmitJobAsync(request, deadline: connection.Deadline(), cancellationToken: ct);
                var format = parse.GetValue(options.Output);
                if (format == OutputFormat.Table)
                {
                    output.WriteLine(job.JobId);
                }
                else if (!parse.GetValue(watch))
                {
                    ObjectOutput.Write(job, format, output);
                }
                if (!parse.GetValue(watch))
                {
                    return JobExitCodes.Ok;
                }

                return await JobWatch.FollowAsync(connection, job.JobId, 0, format, output, error, ct);
            }, cancellation);
        });
        return command;
    }
}
