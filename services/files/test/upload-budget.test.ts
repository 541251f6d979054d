import { createUploadBudget } from '../src/modules/files/upload-budget.js';

describe('the upload budget of a workspace', () => {
  it('lets uploads in flight together take no more than the quota, and frees what a failed one took', async () => {
    let walks = 0;
    const budget = createUploadBudget({ quotaBytes: 1000, usage: async () => ((walks += 1), 400) });
    const [first, second] = await Promise.all([budget.open('w1', 0), budget.open('w1', 0)]);
    expect(walks).toBe(1);
    expect(first!.take(300)).toBe(true);
    expect(second!.available()).toBe(300);
    expect(second!.take(301)).toBe(false);
    expect(second!.take(300)).toBe(true);
    expect(first!.take(1)).toBe(false);
    second!.release();
    expect(first!.take(300)).toBe(true);
    expect(first!.available()).toBe(0);
  });

  it('counts a committed upload until the last upload in flight ends, then walks the folder again', async () => {
    let used = 0;
    const budget = createUploadBudget({ quotaBytes: 1000, usage: async () => used });
    const writer = await budget.open('w1', 0);
    const other = await budget.open('w1', 0);
    expect(writer.take(600)).toBe(true);
    used = 600; // renamed into place
    writer.commit(0);
    expect(other.available()).toBe(400);
    other.release();
    used = 0; // deleted meanwhile
    const next = await budget.open('w1', 0);
    expect(next.available()).toBe(1000);
  });

  it('lets a replacement use the space of the file it replaces, and counts only the difference once committed', async () => {
    const budget = createUploadBudget({ quotaBytes: 1000, usage: async () => 900 });
    const replacing = await budget.open('w1', 500);
    const watcher = await budget.open('w1', 0);
    expect(replacing.take(600)).toBe(true);
    expect(watcher.available()).toBe(-500);
    replacing.commit(500);
    // 900 - 500 + 600 used: 0 left.
    expect(watcher.available()).toBe(0);
  });

  it('keeps workspaces apart', async () => {
    const budget = createUploadBudget({ quotaBytes: 100, usage: async () => 0 });
    const one = await budget.open('w1', 0);
    const two = await budget.open('w2', 0);
    expect(one.take(100)).toBe(true);
    expect(two.take(100)).toBe(true);
  });

  it('gives nothing when the folder cannot be measured, and tries again next time', async () => {
    let fail = true;
    const budget = createUploadBudget({
      quotaBytes: 100,
      usage: async () => {
        if (fail) throw new Error('EIO');
        return 0;
      },
    });
    await expect(budget.open('w1', 0)).rejects.toThrow('EIO');
    fail = false;
    expect((await budget.open('w1', 0)).available()).toBe(100);
  });
});
