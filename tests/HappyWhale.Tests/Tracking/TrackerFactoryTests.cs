using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public sealed class TrackerFactoryTests : IDisposable
{
    private readonly TempStore _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void NullOrEmpty_UsesArtifactsMlrunsUnderRepoRoot()
    {
        var tracker = Assert.IsType<MlflowFileStore>(Assert.IsType<ActiveRunGuard>(TrackerFactory.Create(null, _temp.Folder)).Inner);
        Assert.Equal(Path.Combine(_temp.Folder, "artifacts", "mlruns"), tracker.RootDirectory);
        Assert.True(File.Exists(Path.Combine(_temp.Folder, "artifacts", "mlruns", "0", "meta.yaml")));
        Assert.Equal(tracker.RootDirectory, ((MlflowFileStore)((ActiveRunGuard)TrackerFactory.Create("  ", _temp.Folder)).Inner).RootDirectory);
    }

    [Fact]
    public void PlainPathsAndFileUris_PointAtAFileStore()
    {
        Assert.Equal(Path.Combine(_temp.Folder, "rel"), TrackerFactory.ResolveFileStoreRoot("rel", _temp.Folder));
        Assert.Equal("/abs/store", TrackerFactory.ResolveFileStoreRoot("/abs/store", _temp.Folder));
        Assert.Equal("/abs/my store", TrackerFactory.ResolveFileStoreRoot("file:///abs/my%20store", _temp.Folder));
        Assert.Equal("/abs/store", TrackerFactory.ResolveFileStoreRoot("file://localhost/abs/store", _temp.Folder));
        var store = Assert.IsType<MlflowFileStore>(((ActiveRunGuard)TrackerFactory.Create("file://" + _temp.Root, _temp.Folder)).Inner);
        Assert.Equal(_temp.Root, store.RootDirectory);
    }

    [Theory]
    [InlineData("http://localhost:5000")]
    [InlineData("https://mlflow.example.com")]
    public void Http_GivesTheRestTracker_WithASpoolPerServer(string uri)
    {
        var rest = Assert.IsType<MlflowRestTracker>(Assert.IsType<ActiveRunGuard>(TrackerFactory.Create(uri, _temp.Folder)).Inner);
        Assert.Equal(uri, rest.Client.Options.BaseUri);
        Assert.StartsWith(Path.Combine(_temp.Folder, "artifacts", "mlruns-spool") + Path.DirectorySeparatorChar, rest.Spool!.Directory);
        Assert.Throws<NotSupportedException>(() => TrackerFactory.ResolveFileStoreRoot(uri, _temp.Folder));
    }

    [Fact]
    public void OtherSchemes_AreNotSupported() =>
        Assert.Throws<NotSupportedException>(() => TrackerFactory.Create("sqlite:///mlflow.db", _temp.Folder));
}
