using Plateau.Contracts.Specs;
using Plateau.Data.Datasets;
using Plateau.Data.Loading;
using Plateau.Data.Metrics;
using Plateau.Data.Sampling;
using Plateau.Data.Transforms;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// Scores one rank's exact validation share (<see cref="DistributedSampler.ValidationBatches"/>: contiguous, every
/// sample once across ranks, no padding) in the job's <c>spec.evaluation.mode</c>:
/// <list type="bullet">
/// <item>centerCrop — the dataset's evaluation transform, one view; cross-entropy of the logits (unchanged).</item>
/// <item>tenCrop — resize as the centre crop does, then the 4 corner and the centre crops and their mirrors; ImageNet-like
/// data resizes (256 → 224 crops), CIFAR-sized data (evaluated unresized) crops the image zero-padded by 4.</item>
/// <item>multiScale — the paper's fully-convolutional test: the whole image with its shorter side resized to each of
/// {224, 256, 384, 480, 640} × crop / 224 (the longer side truncated as torchvision's Resize does), each with its mirror.
/// One loader pass per scale gives s × s views, batched; they are the whole image only for a source that resizes to
/// s × s at every scale (a square one: CIFAR, synthetic). Every other image is not decoded by the batched passes (its
/// header gives its size, <see cref="ISampleTransform.Wants"/>), is left out of the batched average and
/// scored after the batched passes at its full shape per scale (<see cref="ResizeCenterCropTransform.WholeImage"/>),
/// batched with every other image of the rank's share that has the same shapes at every scale (ImageNet's 4:3 and 3:4
/// photos fall into a handful of groups): one loader per scale per group.</item>
/// </list>
/// A forward pass holds at most as many pixels as <c>batchSize</c> views of the smallest view (the centre crop): larger
/// views (multi-scale up to 640 on the shorter side) go through the network in proportionally fewer at a time.
/// Multi-view modes average the views' softmax probabilities per image; top-1/top-5 rank the average and the loss is
/// −log of its true-class probability. Every pass reads the same sample batches, in step, so an image's views all meet
/// in one batch; an image missing from any pass (a bad sample) is left out of the counts, as it is in centerCrop, and so
/// is a non-square image that cannot be read again for its own views.
/// </summary>
public static class ValidationEvaluator
{
    /// <summary>Zero padding of the CIFAR-sized ten-crop: the training crop's (ResNet paper section 4.2).</summary>
    public const int SmallImagePadding = 4;

    /// <summary>The loader passes of <paramref name="mode"/> built on the dataset's centre-view transform.</summary>
    public static IReadOnlyList<ISampleTransform> Passes(ISampleTransform centre, EvaluationMode mode)
    {
        ArgumentNullException.ThrowIfNull(centre);
        var cropSize = centre switch
        {
            ResizeCenterCropTransform resize => resize.CropSize,
            IdentityTransform identity when identity.OutputWidth == identity.OutputHeight => identity.OutputWidth,
            _ => throw new ArgumentException($"no {mode} evaluation for the centre transform {centre.GetType().Name}", nameof(centre)),
        };
        return mode switch
        {
            EvaluationMode.CenterCrop => [centre],
            EvaluationMode.TenCrop => [centre is ResizeCenterCropTransform r
                ? new TenCropTransform(r.ResizeTo, r.CropSize)
                : new PaddedTenCropTransform(cropSize, SmallImagePadding)],
            EvaluationMode.MultiScale => [.. ResizeCenterCropTransform.MultiScale(ResizeCenterCropTransform.ScalesFor(cropSize))],
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "spec.evaluation.mode: expected centerCrop, tenCrop or multiScale"),
        };
    }

    /// <summary>Samples per loader batch: <paramref name="batchSize"/> views in all, at least one sample.</summary>
    public static int SamplesPerBatch(IReadOnlyList<ISampleTransform> passes, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(passes);
        return Math.Max(1, batchSize / passes.Sum(p => p.Views));
    }

    /// <summary>Counts of rank <paramref name="rank"/> of <paramref name="worldSize"/> over <paramref name="validation"/>.</summary>
    /// <param name="batchSize">Images (views) per forward pass; a multi-view mode takes fewer samples per batch.</param>
    public static ClassificationCounts Evaluate(
        nn.Module<Tensor, Tensor> model,
        IImageDataset validation,
        IReadOnlyList<ISampleTransform> passes,
        Normalisation normalisation,
        Device device,
        int rank,
        int worldSize,
        int batchSize,
        int seed,
        int epoch,
        DataLoaderOptions loaderOptions,
        CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(passes);
        if (passes.Count == 0)
        {
            throw new ArgumentException("at least one evaluation pass is needed", nameof(passes));
        }

        var samples = SamplesPerBatch(passes, batchSize);
        var batches = DistributedSampler.ValidationBatches(validation.Count, samples, rank, worldSize).ToList();
        model.eval();
        try
        {
            var pixels = passes.Min(p => (long)p.OutputWidth * p.OutputHeight);
            var scoring = new Scoring(model, validation, normalisation, device, batchSize, pixels, seed, epoch, loaderOptions, token);
            List<(int Index, int Width, int Height)> ownViews = [];
            var counts = Score(scoring, passes, batches, samples, ownViews);
            return counts + ScoreWholeImages(scoring, passes, ownViews);
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>
    /// Counts over <paramref name="batches"/> of sample indices, every pass reading them in step (model in eval mode);
    /// images a multi-scale pass did not see whole are added to <paramref name="ownViews"/> instead.
    /// </summary>
    private static ClassificationCounts Score(Scoring scoring, IReadOnlyList<ISampleTransform> passes, List<int[]> batches, int samples,
        List<(int Index, int Width, int Height)> ownViews)
    {
        var (model, validation, normalisation, device, batchSize, pixels, seed, epoch, loaderOptions, token) = scoring;
        var counts = ClassificationCounts.Zero;
        if (batches.Count == 0)
        {
            return counts;
        }

        var loaders = new List<DataLoader>(passes.Count);
        var readers = new List<IAsyncEnumerator<Batch>>(passes.Count);
        try
        {
            foreach (var pass in passes)
            {
                var loader = new DataLoader(validation, pass, samples, seed, loaderOptions);
                loaders.Add(loader);
                readers.Add(loader.ReadBatches(epoch, batches, token).GetAsyncEnumerator(token));
            }

            using var noGrad = no_grad();
            var single = passes is [{ Views: 1 }];
            for (var k = 0; k < batches.Count; k++)
            {
                var read = readers.Select(r => r.MoveNextAsync().AsTask().GetAwaiter().GetResult()).ToList();
                if (read.Contains(false))
                {
                    throw new InvalidOperationException($"evaluation pass ended after {k} of {batches.Count} batches");
                }

                using var scope = NewDisposeScope();
                counts += single
                    ? ClassificationCounts.FromLogits(model.call(readers[0].Current.ToDeviceNormalised(device, normalisation)), readers[0].Current.Labels)
                    : Averaged(model, [.. readers.Select(r => r.Current)], passes, normalisation, device, batchSize, pixels, ownViews);
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10), CancellationToken.None);
            }

            foreach (var loader in loaders)
            {
                loader.Dispose();
            }
        }

        return counts;
    }

    /// <summary>
    /// Multi-scale views of the images the batched passes did not see whole (non-square sources), each at its full
    /// shape per scale (<see cref="ResizeCenterCropTransform.WholeImage"/>). Images with the same shapes at every scale
    /// are batched together: one loader per scale per shape group, not per image. A sample unreadable now is left out
    /// (counted nowhere), as a bad sample is in the batched passes.
    /// </summary>
    private static ClassificationCounts ScoreWholeImages(Scoring scoring, IReadOnlyList<ISampleTransform> passes, List<(int Index, int Width, int Height)> images)
    {
        var counts = ClassificationCounts.Zero;
        var options = scoring.LoaderOptions with { MaxBadSampleFraction = 1 };
        foreach (var group in images.GroupBy(i => new WholeImageShapes(passes, i.Width, i.Height)))
        {
            var whole = group.Key.Passes;
            var samples = SamplesPerBatch(whole, scoring.BatchSize);
            List<(int, int, int)> none = []; // whole views: nothing left for later
            counts += Score(scoring with { LoaderOptions = options }, whole, [.. group.Select(i => i.Index).Chunk(samples)], samples, none);
        }

        return counts;
    }

    /// <summary>The passes that view a source of some size whole at every scale; equal when their view shapes are.</summary>
    private sealed class WholeImageShapes : IEquatable<WholeImageShapes>
    {
        public WholeImageShapes(IReadOnlyList<ISampleTransform> passes, int width, int height) =>
            Passes = [.. passes.Select(p => p is ResizeCenterCropTransform { IsTestScale: true } scale ? scale.WholeImage(width, height) : p)];

        public ISampleTransform[] Passes { get; }

        public bool Equals(WholeImageShapes? other) =>
            other is not null && Passes.Select(Shape).SequenceEqual(other.Passes.Select(Shape));

        public override bool Equals(object? obj) => Equals(obj as WholeImageShapes);

        public override int GetHashCode() => Passes.Aggregate(0, (hash, p) => HashCode.Combine(hash, Shape(p)));

        private static (int, int, int, Type) Shape(ISampleTransform pass) => (pass.OutputWidth, pass.OutputHeight, pass.Views, pass.GetType());
    }

    /// <summary>What every scoring pass of one evaluation shares; <c>Pixels</c> is one centre view's, the unit of the per-forward budget.</summary>
    private sealed record Scoring(
        nn.Module<Tensor, Tensor> Model,
        IImageDataset Validation,
        Normalisation Normalisation,
        Device Device,
        int BatchSize,
        long Pixels,
        int Seed,
        int Epoch,
        DataLoaderOptions LoaderOptions,
        CancellationToken Token);

    /// <summary>
    /// One sample batch seen by every pass: softmax per view, averaged over all views of all passes. An image a pass
    /// does not want (<see cref="ISampleTransform.Wants"/>: a multi-scale scale that cannot see a non-square source
    /// whole) was not decoded; it is not scored here but added to <paramref name="ownViews"/>, to be scored at its own shapes.
    /// </summary>
    private static ClassificationCounts Averaged(
        nn.Module<Tensor, Tensor> model,
        Batch[] batches,
        IReadOnlyList<ISampleTransform> passes,
        Normalisation normalisation,
        Device device,
        int batchSize,
        long pixels,
        List<(int Index, int Width, int Height)> ownViews)
    {
        // Images every pass delivered (a bad sample is missing from all of them, but check rather than assume).
        var present = batches.Skip(1).Aggregate(batches[0].Indices.AsEnumerable(), (kept, b) => kept.Intersect(b.Indices)).ToArray();
        // A source some pass does not want (not decoded: its views are zero) is scored later at its own shapes.
        var size = batches[0].Indices.Zip(batches[0].SourceSizes).ToDictionary(p => p.First, p => p.Second);
        var wanted = present.ToLookup(i => passes.All(p => p.Wants(size[i].Width, size[i].Height)));
        ownViews.AddRange(wanted[false].Select(i => (i, size[i].Width, size[i].Height)));
        present = [.. wanted[true]];

        if (present.Length == 0)
        {
            return ClassificationCounts.Zero;
        }

        Tensor? sum = null;
        var views = 0;
        foreach (var batch in batches)
        {
            var rows = RowsOf(batch.Indices, present);
            var images = batch.ToDeviceNormalised(device, normalisation).index_select(0, rows.to(device));
            var perSample = images.dim() == 5 ? images.shape[1] : 1;
            var flat = images.reshape([-1, images.shape[^3], images.shape[^2], images.shape[^1]]);
            var perForward = (int)Math.Clamp(batchSize * pixels / (flat.shape[^2] * flat.shape[^1]), 1, batchSize);
            var logits = cat([.. Chunks(flat, perForward).Select(chunk => model.call(chunk))], 0);
            var probabilities = logits.to_type(ScalarType.Float64).softmax(-1).view([present.Length, perSample, -1]).sum([1]);
            sum = sum is null ? probabilities : sum.add_(probabilities);
            views += (int)perSample;
        }

        var labels = batches[0].Labels.index_select(0, RowsOf(batches[0].Indices, present));
        return ClassificationCounts.FromProbabilities(sum!.div_(views), labels);
    }

    private static Tensor RowsOf(int[] indices, int[] present)
    {
        var row = new Dictionary<int, long>(indices.Length);
        for (var i = 0; i < indices.Length; i++)
        {
            row[indices[i]] = i;
        }

        return tensor(present.Select(i => row[i]).ToArray(), ScalarType.Int64);
    }

    private static IEnumerable<Tensor> Chunks(Tensor images, int size)
    {
        var n = images.shape[0];
        for (long start = 0; start < n; start += size)
        {
            yield return images.narrow(0, start, Math.Min(size, n - start));
        }
    }
}
