import { cellOf, rowCountOf } from '../src/modules/content/content-fns.js';
import { WorkspaceLoginRefused } from '../src/modules/cluster/cluster-fns.js';
import { describeFailure } from '../src/modules/provisioning/provisioning-fns.js';

describe('when a row count is shown', () => {
  it('is exact up to the limit and the estimate above it', () => {
    expect(rowCountOf({ counted: 0, estimate: -1, limit: 10 })).toEqual({ rowCount: 0, rowCountExact: true });
    expect(rowCountOf({ counted: 10, estimate: -1, limit: 10 })).toEqual({ rowCount: 10, rowCountExact: true });
    expect(rowCountOf({ counted: 11, estimate: -1, limit: 10 })).toEqual({ rowCount: 11, rowCountExact: false });
    expect(rowCountOf({ counted: null, estimate: 1234.4, limit: 10 })).toEqual({ rowCount: 1234, rowCountExact: false });
  });
});

describe('when a cell is long', () => {
  it('is cut at 4096 characters with an ellipsis', () => {
    expect(cellOf(null)).toBeNull();
    expect(cellOf('x'.repeat(4096))).toBe('x'.repeat(4096));
    expect(cellOf('x'.repeat(5000))).toBe(`${'x'.repeat(4096)}…`);
  });
});

describe('when a step on the workspace cluster fails', () => {
  it('says why without the error\'s text when it may say too much, and whether a retry may help', () => {
    expect(describeFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' }))).toEqual({ reason: 'The workspace database cluster cannot be reached (ECONNREFUSED)', retryable: true });
    expect(describeFailure(Object.assign(new Error('permission denied to create role'), { code: '42501' }))).toEqual({ reason: 'The workspace database cluster refused a step (42501: permission denied to create role)', retryable: false });
    expect(describeFailure(new Error('password=hunter2 somewhere in a message'))).toEqual({ reason: 'Provisioning failed unexpectedly; the worker log has the details', retryable: true });
    // The admin login refused is an operator's fix; a workspace login refused its new password is not.
    expect(describeFailure(Object.assign(new Error('password authentication failed for user "hexa_workspace_admin"'), { code: '28P01' })).reason).toBe("The workspace database cluster refused the platform's admin login (28P01)");
    expect(describeFailure(new WorkspaceLoginRefused('hexa_ws_1', '28P01'))).toEqual({ reason: 'The workspace database cluster refused login hexa_ws_1 with the password just set (28P01)', retryable: true });
  });
});
