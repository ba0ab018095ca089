namespace Plateau.Worker.Tests.Support;

/// <summary>Runs one body per rank at once, each on its own dedicated thread, as the trainer does.</summary>
internal static class RankThreads
{
    public static Task<T[]> RunAsync<T>(int ranks, Func<int, T> body) =>
        Task.WhenAll(Enumerable.Range(0, ranks).Select(rank =>
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    done.SetResult(body(rank));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }) { IsBackground = true, Name = $"test-rank-{rank}" };
            thread.Start();
            return done.Task;
        }));
}
