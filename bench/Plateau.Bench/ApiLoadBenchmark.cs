using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Proto = Plateau.Protos.V1;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench api --submissions 50 --watches 200</c>: the job control API under concurrent use. The real
/// coordinator host runs in this process on loopback (bearer token, temporary state); then, all at once, every
/// submission is sent and, as each job is accepted, its share of the watch streams is opened (watch i follows
/// job i mod submissions). A watch succeeds when its first update (the job's snapshot) arrives, and is then
/// cancelled. No worker exists, so every job waits in rendezvous; all are cancelled at the end, and those
/// cancellations are timed too. Exit code 1 when any call failed.
/// </summary>
public static class ApiLoadBenchmark
{
    /// <summary>Longer than any run: the jobs wait in rendezvous until they are cancelled, never time out.</summary>
    private const double RendezvousTimeoutSeconds = 3600;

    /// <summary>Error messages printed per operation; the rest are counted.</summary>
    private const int ErrorsShown = 3;

    /// <summary>Each call's deadline (a watch's: for its first update), so a stuck call fails instead of hanging the run.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var submissions = new Option<int>("--submissions") { Description = "Concurrent job submissions (each a small job that waits in rendezvous).", DefaultValueFactory = _ => 50 }.Positive();
        var watches = new Option<int>("--watches") { Description = "Concurrent WatchJob streams, spread over the submitted jobs.", DefaultValueFactory = _ => 200 }.Positive();
        var command = new Command("api", "Job API load: concurrent submissions and watch streams against one coordinator on loopback; p50/p99 latency.") { submissions, watches };
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult.GetValue(submissions), parseResult.GetValue(watches), cancellationToken));
        return command;
    }

    /// <summary>One operation's outcomes: latencies of the calls that succeeded, the errors of those that did not.</summary>
    private sealed class Outcomes
    {
        public ConcurrentBag<double> Milliseconds { get; } = [];

        public ConcurrentQueue<string> Errors { get; } = new();
    }

    private static async Task<int> RunAsync(int submissions, int watches, CancellationToken cancellationToken)
    {
        Console.WriteLine($"# plateau-bench api: {Machine.Describe()}, load average {Machine.LoadAverage()} at start; {submissions} submissions and {watches} watch streams, " +
                          "all at once, against the coordinator host in this process (loopback HTTP/2, bearer token); 1 warm-up submission and watch not counted");
        await using var coordinator = await InProcessCoordinator.StartAsync("api", cancellationToken);
        using var channel = Open(coordinator);
        var client = new Proto.JobService.JobServiceClient(channel);
        var run = Guid.NewGuid().ToString("N")[..8];

        // Warm-up: the first call of each kind pays for connection setup, JIT and the catalog grain's activation.
        var warmUp = new Outcomes();
        var warmUpId = $"bench-api-{run}-warmup";
        await SubmitAsync(client, warmUpId, warmUp, cancellationToken);
        await WatchAsync(client, warmUpId, warmUp, cancellationToken);
        await CancelAsync(client, warmUpId, warmUp, cancellationToken);
        if (!warmUp.Errors.IsEmpty)
        {
            Console.Error.WriteLine($"plateau-bench api: the warm-up failed: {string.Join("; ", warmUp.Errors)}");
            return 1;
        }

        var (submitted, watched, cancelled) = (new Outcomes(), new Outcomes(), new Outcomes());
        var accepted = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, submissions).Select(async job =>
        {
            var jobId = $"bench-api-{run}-{job}";
            var its = Enumerable.Range(0, watches).Count(w => w % submissions == job);
            if (!await SubmitAsync(client, jobId, submitted, cancellationToken))
            {
                for (var i = 0; i < its; i++)
                {
                    watched.Errors.Enqueue($"{jobId}: not watched, its submission failed");
                }

                return;
            }

            accepted.Add(jobId);
            await Task.WhenAll(Enumerable.Range(0, its).Select(_ => WatchAsync(client, jobId, watched, cancellationToken)));
        }));
        var loadSeconds = clock.Elapsed.TotalSeconds;

        await Task.WhenAll(accepted.Select(jobId => CancelAsync(client, jobId, cancelled, cancellationToken)));

        Console.WriteLine();
        Console.WriteLine($"{"operation",-10}{"count",7}{"succeeded",11}{"failed",8}{"p50 ms",9}{"p99 ms",9}{"max ms",9}");
        Row("submit", submissions, submitted);
        Row("watch", watches, watched);
        Row("cancel", accepted.Count, cancelled);
        Console.WriteLine(string.Create(Invariant, $"submissions and watches took {loadSeconds:F2} s in all; load average after {Machine.LoadAverage()}"));
        return submitted.Errors.IsEmpty && watched.Errors.IsEmpty && cancelled.Errors.IsEmpty ? 0 : 1;
    }

    private static GrpcChannel Open(InProcessCoordinator coordinator)
    {
        var bearer = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("authorization", "Bearer " + coordinator.Token);
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress(coordinator.GrpcAddress, new GrpcChannelOptions
        {
            // Kestrel allows 100 streams per HTTP/2 connection; the watches need more than one connection.
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            DisposeHttpClient = true,
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, bearer),
            // Loopback only: the token never leaves this machine.
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    private static async Task<bool> SubmitAsync(Proto.JobService.JobServiceClient client, string jobId, Outcomes outcomes, CancellationToken cancellationToken)
    {
        var request = new Proto.SubmitJobRequest { JobId = jobId, Spec = BenchJobSpec.Yaml(jobId, workers: 2, RendezvousTimeoutSeconds) };
        return await TimeAsync(outcomes, jobId, async () =>
        {
            var job = await client.SubmitJobAsync(request, deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
            return job.Phase == Proto.JobPhase.Rendezvous ? null : $"answered phase {job.Phase}, expected rendezvous";
        });
    }

    /// <summary>Opens a stream, waits for its first update, then cancels it (the client's cancel ends the server's loop).</summary>
    private static Task<bool> WatchAsync(Proto.JobService.JobServiceClient client, string jobId, Outcomes outcomes, CancellationToken cancellationToken) =>
        TimeAsync(outcomes, jobId, async () =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var call = client.WatchJob(new Proto.WatchJobRequest { JobId = jobId }, deadline: DateTime.UtcNow + CallTimeout, cancellationToken: stop.Token);
            var first = await call.ResponseStream.MoveNext(stop.Token) ? call.ResponseStream.Current : null;
            await stop.CancelAsync();
            return first switch
            {
                null => "the stream ended before its first update",
                { Snapshot.JobId: var id } when id != jobId => $"the first update is a snapshot of {id}",
                _ => null,
            };
        });

    private static Task<bool> CancelAsync(Proto.JobService.JobServiceClient client, string jobId, Outcomes outcomes, CancellationToken cancellationToken) =>
        TimeAsync(outcomes, jobId, async () =>
        {
            var job = await client.CancelJobAsync(new Proto.CancelJobRequest { JobId = jobId, Reason = "plateau-bench api: run over" },
                deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
            return job.Phase == Proto.JobPhase.Cancelled ? null : $"answered phase {job.Phase}, expected cancelled";
        });

    /// <summary>Times <paramref name="call"/> (which answers a problem or null) and records its outcome.</summary>
    private static async Task<bool> TimeAsync(Outcomes outcomes, string jobId, Func<Task<string?>> call)
    {
        var start = Stopwatch.GetTimestamp();
        string? problem;
        try
        {
            problem = await call();
        }
        catch (RpcException e)
        {
            problem = $"{e.StatusCode}: {e.Status.Detail}";
        }

        if (problem is null)
        {
            outcomes.Milliseconds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return true;
        }

        outcomes.Errors.Enqueue($"{jobId}: {problem}");
        return false;
    }

    private static void Row(string operation, int count, Outcomes outcomes)
    {
        var latency = LatencySummary.Of(outcomes.Milliseconds);
        Console.WriteLine(string.Create(Invariant, $"{operation,-10}{count,7}{latency.Count,11}{outcomes.Errors.Count,8}") + latency.Columns());
        foreach (var error in outcomes.Errors.Take(ErrorsShown))
        {
            Console.Error.WriteLine($"  {operation} failed: {error}");
        }

        if (outcomes.Errors.Count > ErrorsShown)
        {
            Console.Error.WriteLine($"  … and {outcomes.Errors.Count - ErrorsShown} more {operation} failures");
        }
    }
}
