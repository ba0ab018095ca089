using Grpc.Core;
using Proto = Plateau.Protos.V1;

namespace Plateau.Cli.Reports;

/// <summary>Fetches what a report needs from the JobService (the job and its retained events) and writes the page.</summary>
public static class RunReportWriter
{
    /// <summary>How long a running job's event stream is read once it goes quiet.</summary>
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    public static async Task<Proto.Job> WriteAsync(Proto.JobService.JobServiceClient client, string jobId, string path, TimeSpan callTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var job = await client.GetJobAsync(new Proto.GetJobRequest { JobId = jobId }, deadline: DateTime.UtcNow + callTimeout, cancellationToken: cancellationToken);
        var events = new List<Proto.JobEvent>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(callTimeout);
        try
        {
            // A finished job's stream ends by itself after its events; a running job's goes quiet, and the
            // report is of what happened so far.
            using var call = client.WatchJob(new Proto.WatchJobRequest { JobId = jobId, AfterSequence = 0 }, cancellationToken: stop.Token);
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                quiet.CancelAfter(QuietPeriod);
                if (!await call.ResponseStream.MoveNext(quiet.Token))
                {
                    break;
                }

                var update = call.ResponseStream.Current;
                if (update.UpdateCase == Proto.JobUpdate.UpdateOneofCase.Event)
                {
                    events.Add(update.Event);
                }
                else if (update.UpdateCase == Proto.JobUpdate.UpdateOneofCase.Snapshot)
                {
                    job = update.Snapshot;
                }
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && !cancellationToken.IsCancellationRequested)
        {
            // quiet: the report is of what happened so far
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // quiet: the report is of what happened so far
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        await File.WriteAllTextAsync(path, RunReport.Render(job, events), cancellationToken);
        return job;
    }
}
