using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// <c>plateau export JOB [CHECKPOINT] --out model.safetensors</c>: a committed checkpoint's weights as a plain
/// safetensors state dict (torchvision/timm keys, no optimizer state), from the coordinator's ExportWeights.
/// The file appears whole or not at all: it is written under a temporary name and renamed.
/// </summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var options = new JobCommandOptions();
        var job = new Argument<string>("job") { Description = "Job id." };
        var checkpoint = new Argument<string?>("checkpoint") { Description = "Checkpoint id (default: the newest committed one).", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the safetensors file.", Required = true };
        var command = new Command("export", "Write a job's trained weights (a committed checkpoint) as a plain safetensors state dict.")
        {
            job, checkpoint, output, options.Coordinator, options.Token, options.CaCertificate, options.Timeout,
        };
        command.SetAction((parse, cancellation) =>
        {
            var jobId = parse.GetValue(job)!;
            var target = parse.GetValue(output)!;
            // NOT_FOUND here may mean a missing checkpoint rather than a missing job: the coordinator's message says which.
            return JobCalls.RunAsync(parse, options, null, (connection, stdout, stderr, ct) =>
                ExportAsync(connection, jobId, parse.GetValue(checkpoint), target, stdout, stderr, ct), cancellation);
        });
        return command;
    }

    private static async Task<int> ExportAsync(CoordinatorConnection connection, string jobId, string? checkpointId, FileInfo target, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var directory = target.Directory ?? new DirectoryInfo(Directory.GetCurrentDirectory());
        if (!directory.Exists)
        {
            await error.WriteLineAsync($"--out: folder {directory.FullName} does not exist");
            return JobExitCodes.InvalidInput;
        }

        var temporary = Path.Combine(directory.FullName, $".{target.Name}.{Guid.NewGuid():N}.partial");
        // Each chunk must arrive within --timeout; the whole download may take longer.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(connection.CallTimeout);
        try
        {
            string? exported = null;
            long expected = -1;
            long written = 0;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                using var call = connection.Client.ExportWeights(new ExportWeightsRequest { JobId = jobId, CheckpointId = checkpointId ?? "" }, cancellationToken: idle.Token);
                while (await call.ResponseStream.MoveNext(idle.Token))
                {
                    idle.CancelAfter(connection.CallTimeout);
                    var chunk = call.ResponseStream.Current;
                    if (exported is null)
                    {
                        (exported, expected) = (chunk.CheckpointId, chunk.TotalBytes);
                    }

                    chunk.Data.WriteTo(file);
                    written += chunk.Data.Length;
                }

                await file.FlushAsync(cancellation);
                file.Flush(flushToDisk: true);
            }

            if (exported is null || written != expected)
            {
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"the coordinator sent {written} bytes of the {expected} it announced; nothing was written to {target.FullName}"));
                return JobExitCodes.OtherError;
            }

            File.Move(temporary, target.FullName, overwrite: true);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{target.FullName}: checkpoint {exported} of job {jobId}, {written} bytes"));
            return JobExitCodes.Ok;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && idle.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"the coordinator at {connection.Address} sent nothing for {connection.CallTimeout.TotalSeconds:0.###} s (raise --timeout if it is busy); nothing was written"));
            return JobExitCodes.Timeout;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
