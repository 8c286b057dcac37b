import journal from './meta/_journal.json';
import m0000 from './0000_account.sql';
import m0001 from './0001_outbox.sql';
import m0002 from './0002_created_by_once.sql';
import m0003 from './0003_alerts_text.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003
    }
  }
  