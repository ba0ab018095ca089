using System.Diagnostics;
using System.Security.Cryptography;
using Plateau.Collective.Tests.Liveness;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Tests.Ring;

public abstract class FailureTests : RingTestBase
{
    [Fact]
    public async Task AKilledPeerMakesEveryOtherRankFailFastNamingIt()
    {
        const int worldSize = 4;
        const int victim = 2;
        await using var ring = await StartRingAsync(worldSize);
        var watch = Stopwatch.StartNew();
        var survivors = Enumerable.Range(0, worldSize).Where(r => r != victim).Select(rank => Task.Run(async () =>
        {
            var buffer = new float[1 << 20];
            return await Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[rank].AllReduceAsync(buffer));
        })).ToArray();
        await Task.Delay(500);
        await ring.Groups[victim].KillAsync();
        var failures = await Task.WhenAll(survivors).WaitAsync(TimeSpan.FromSeconds(15));
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"survivors took {watch.Elapsed} to notice (operation deadline is 60 s)");
        foreach (var failure in failures)
        {
            Assert.Equal(victim, failure.FailedRank);
            Assert.Equal(ring.Addresses[victim], failure.FailedAddress);
        }
    }

    /// <summary>
    /// The blame of the rank that sends to a killed peer (docs/reliability.md). The victim's other neighbour (the
    /// receiver) sees it die, fails, tells its neighbours and, like a worker, leaves its group at once. Here the
    /// sender learns nothing from the victim's own streams (they reach it through a relay that goes silent at the
    /// kill) and hears the receiver late (the receiver's streams reach it through a relay that delays them by
    /// 500 ms): so the first news it gets is the end of the receiver's data (the data socket, which bypasses the
    /// relay, or the gRPC stream) and the abort that names the victim comes after. It must wait for the abort, not
    /// blame the receiver for closing; its own failed writes toward the victim name the victim too.
    /// </summary>
    [Fact]
    public async Task TheRankSendingToAKilledPeerNamesItEvenWhenASurvivorsCloseArrivesBeforeItsAbort()
    {
        const int worldSize = 3;
        const int victim = 2;
        const int sender = 1; // sends to the victim; receives from the receiver
        const int receiver = 0; // receives from the victim
        await using var ring = await RingHarness.StartServersAsync(worldSize, Transport);
        var addresses = ring.Addresses;
        // A rank dials its left neighbour: the sender dials the receiver, the victim dials the sender.
        await using var receiverToSender = new LoopbackProxy(new Uri(addresses[receiver]));
        await using var victimToSender = new LoopbackProxy(new Uri(addresses[sender]));
        await ring.JoinAsync(1, o =>
        {
            o.ChunkBytes = 64 << 10;
            o.Peers = o.Rank switch
            {
                sender => [receiverToSender.Address, addresses[sender], addresses[victim]],
                victim => [addresses[receiver], victimToSender.Address, addresses[victim]],
                _ => addresses,
            };
        });

        var completed = new int[worldSize];
        var loops = Enumerable.Range(0, worldSize).Select(rank => Task.Run(async () =>
        {
            var group = ring.Groups[rank];
            var buffer = new float[1 << 18];
            try
            {
                while (true)
                {
                    await group.AllReduceAsync(buffer);
                    Interlocked.Increment(ref completed[rank]);
                }
            }
            catch (Exception ex) when (ex is CollectiveException or ObjectDisposedException)
            {
                // A worker reports its verdict and leaves the group at once: its links close right behind its abort.
                await group.DisposeAsync();
                return ex;
            }
        })).ToArray();
        while (Enumerable.Range(0, worldSize).Any(rank => Volatile.Read(ref completed[rank]) < 2))
        {
            Assert.DoesNotContain(loops, l => l.IsCompleted);
            await Task.Delay(20);
        }

        victimToSender.StopForwarding();
        receiverToSender.DelayFromTarget(TimeSpan.FromMilliseconds(500));
        var watch = Stopwatch.StartNew();
        await ring.Groups[victim].KillAsync();
        var failures = await Task.WhenAll(loops[receiver], loops[sender]).WaitAsync(TimeSpan.FromSeconds(30));
        watch.Stop();

        foreach (var (rank, failure) in new[] { (receiver, failures[0]), (sender, failures[1]) })
        {
            var error = Assert.IsType<CollectiveException>(failure);
            Assert.True(victim == error.FailedRank, $"rank {rank} named rank {error.FailedRank} ({error.FailedAddress}), not the killed rank {victim}: {error.Message}");
            Assert.Equal(addresses[victim], error.FailedAddress);
        }
        // The sender heard the verdict 500 ms late by construction; anything near the 60 s operation deadline would be a hang.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"the survivors took {watch.Elapsed} to fail");
    }

    [Fact]
    public async Task TheRingReformsForANewGenerationAfterAFailure()
    {
        const int worldSize = 3;
        await using var ring = await StartRingAsync(worldSize, generation: 1);
        await ring.Groups[1].KillAsync();
        var error = await Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[0].AllReduceAsync(new float[10]).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, error.FailedRank);
        foreach (var group in ring.Groups)
        {
            await group.DisposeAsync();
        }

        await ring.JoinAsync(generation: 2);
        var buffers = Enumerable.Range(0, worldSize).Select(r => new[] { r + 1f, 10f }).ToArray();
        await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
        float[] expected = [6f, 30f];
        Assert.All(buffers, b => Assert.Equal(expected, b));
    }

    [Fact]
    public async Task RanksThatLeaveRightAfterTheirLastOperationDoNotFailPeersStillFinishingIt()
    {
        const int worldSize = 4;
        await using var ring = await StartRingAsync(worldSize, o => o.ChunkBytes = 64 << 10);
        var buffers = Enumerable.Range(0, worldSize).Select(r => Enumerable.Repeat(r + 1f, 1 << 20).ToArray()).ToArray();
        // Each rank leaves the moment its own all-reduce returns, as a worker does at the end of a job.
        await ring.AllAsync(async (g, rank) =>
        {
            await g.AllReduceAsync(buffers[rank]);
            await g.DisposeAsync();
        }).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(buffers, b => Assert.All(b, v => Assert.Equal(10f, v)));
    }

    [Fact]
    public async Task ARankWhoseBothNeighboursLeftJudgesEachLinkByThatNeighboursOwnGoodbye()
    {
        // The slowest rank of a finished job: its left neighbour's goodbye arrives, then its right neighbour's, and
        // then its last send to the right neighbour fails because that one has gone. The send was delivered (the right
        // neighbour completed the operation), so it is no failure. A fresh-clone run failed here naming the left
        // neighbour when only one goodbye was kept.
        await using var ring = await StartRingAsync(3);
        await ring.AllAsync((g, rank) => g.AllReduceAsync(new float[16]));
        var group = ring.Groups[0];
        foreach (var leaver in new[] { 2, 1 }) // rank 0's left neighbour first, then its right one
        {
            group.OnAbortFrame(new Abort { FailedRank = leaver, Reason = $"rank {leaver} left the group", ReportingRank = leaver, Leaving = true, CompletedSequence = 1 });
        }

        Assert.True(await group.WasDeliveredToLeaverAsync(peerRank: 1, sequence: 1, Task.CompletedTask));
        group.LinkEnded(1, "rank 1 closed its link");
        group.LinkEnded(2, "rank 2 closed its link");

        // Neither ending failed the group; the next operation, which needs both, fails naming a leaver.
        var error = await Assert.ThrowsAsync<CollectiveException>(() => group.BarrierAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, error.FailedRank);
        Assert.Contains("rank 1 left the group", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APeerThatLeftIsNamedByTheNextOperation()
    {
        await using var ring = await StartRingAsync(3);
        await ring.Groups[2].DisposeAsync();
        await Task.Delay(200);
        var error = await Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[0].BarrierAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, error.FailedRank);
        Assert.True(error.Message.Contains("left the group", StringComparison.Ordinal), error.ToString());
    }

    [Fact]
    public async Task ARankThatNeverArrivesHitsTheOperationDeadlineOnEveryRank()
    {
        const int worldSize = 3;
        await using var ring = await StartRingAsync(worldSize, o => o.OperationTimeout = TimeSpan.FromSeconds(2));
        var watch = Stopwatch.StartNew();
        // Rank 1 is alive (answers pings) but never calls the collective.
        int[] arriving = [0, 2];
        var waiting = arriving.Select(rank => Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[rank].AllReduceAsync(new float[1000]))).ToArray();
        var failures = await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(60));
        // The 2 s deadline ended it, not the 30 s peer timeout or the 120 s default deadline: a wide margin, since a
        // saturated 2-core machine (load average 20) took 9 s to deliver the verdicts.
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9) && watch.Elapsed < TimeSpan.FromSeconds(25), $"deadline of 2 s took {watch.Elapsed}");
        Assert.All(failures, f => Assert.Contains("deadline", f.Message, StringComparison.Ordinal));
        // Rank 1 learns of the abort without ever having called anything.
        await Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[1].BarrierAsync().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task DifferentBufferLengthsAreReportedNotMissummed()
    {
        await using var ring = await StartRingAsync(2);
        var errors = await Task.WhenAll(
            Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[0].AllReduceAsync(new float[100])),
            Assert.ThrowsAsync<CollectiveException>(() => ring.Groups[1].AllReduceAsync(new float[101])));
        Assert.Contains(errors, e => e.Message.Contains("equal lengths", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWrongSecretIsRefusedAsUnauthenticated()
    {
        var servers = await Task.WhenAll(CollectiveServer.StartAsync(new CollectiveServerOptions()), CollectiveServer.StartAsync(new CollectiveServerOptions()));
        try
        {
            var peers = servers.Select(s => s.Address).ToArray();
            var join0 = CollectiveGroup.JoinAsync(servers[0], Options("job-a", 1, 0, peers, RandomNumberGenerator.GetBytes(32)));
            var join1 = CollectiveGroup.JoinAsync(servers[1], Options("job-a", 1, 1, peers, RandomNumberGenerator.GetBytes(32)));
            var error0 = await Assert.ThrowsAsync<CollectiveException>(() => join0);
            var error1 = await Assert.ThrowsAsync<CollectiveException>(() => join1);
            Assert.Contains("Unauthenticated", error0.Message, StringComparison.Ordinal);
            Assert.Contains("Unauthenticated", error1.Message, StringComparison.Ordinal);
            Assert.Equal(1, error0.FailedRank);
            Assert.Equal(0, error1.FailedRank);
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task AStaleGenerationIsRefusedAsFailedPrecondition()
    {
        var servers = await Task.WhenAll(CollectiveServer.StartAsync(new CollectiveServerOptions()), CollectiveServer.StartAsync(new CollectiveServerOptions()));
        try
        {
            var peers = servers.Select(s => s.Address).ToArray();
            var secret = RandomNumberGenerator.GetBytes(32);
            var current = CollectiveGroup.JoinAsync(servers[0], Options("job-a", 5, 0, peers, secret, connectSeconds: 3));
            var stale = CollectiveGroup.JoinAsync(servers[1], Options("job-a", 4, 1, peers, secret));
            var staleError = await Assert.ThrowsAsync<CollectiveException>(() => stale);
            Assert.Contains("FailedPrecondition", staleError.Message, StringComparison.Ordinal);
            Assert.Contains("stale generation 4", staleError.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<CollectiveException>(() => current);
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task AStrangersJobIsRefusedAsPermissionDenied()
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => CollectiveServer.StartAsync(new CollectiveServerOptions())));
        try
        {
            var secret = RandomNumberGenerator.GetBytes(32);
            // Job a's rank 0 stays registered on server 0 for the whole test: its rank 1 (server 2) never joins, so
            // it keeps retrying until cancelled. (With the stranger as its peer it was refused at once and left, and
            // a stranger whose Hello came before or after that short window heard "not joined yet" until its deadline.)
            using var stop = new CancellationTokenSource();
            var mine = CollectiveGroup.JoinAsync(servers[0], Options("job-a", 1, 0, [servers[0].Address, servers[2].Address], secret, connectSeconds: 120), cancellationToken: stop.Token);
            // The refusal comes as soon as rank 0 has joined and answers; a long deadline only matters on a starved machine.
            var stranger = CollectiveGroup.JoinAsync(servers[1], Options("job-b", 1, 1, [servers[0].Address, servers[1].Address], secret, connectSeconds: 60));
            var error = await Assert.ThrowsAsync<CollectiveException>(() => stranger);
            Assert.Contains("PermissionDenied", error.Message, StringComparison.Ordinal);
            await stop.CancelAsync();
            var ended = await Record.ExceptionAsync(() => mine);
            Assert.True(ended is OperationCanceledException or CollectiveException, $"job a's rank 0 should end when stopped, got {ended}");
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public void InvalidOptionsNameTheSetting()
    {
        var result = new RingOptionsValidator().Validate(null, new RingOptions { JobId = "", WorldSize = 2, Rank = 3, Peers = ["http://a:1"], Secret = [1, 2] });
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("RingOptions.JobId", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("RingOptions.Rank", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("RingOptions.Peers", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("RingOptions.Secret", StringComparison.Ordinal));
    }

    private RingOptions Options(string job, long generation, int rank, string[] peers, byte[] secret, int connectSeconds = 10) => new()
    {
        JobId = job,
        Transport = Transport,
        Generation = generation,
        Rank = rank,
        WorldSize = peers.Length,
        Peers = peers,
        Secret = secret,
        ConnectTimeout = TimeSpan.FromSeconds(connectSeconds),
    };

    public sealed class OverGrpc : FailureTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : FailureTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
