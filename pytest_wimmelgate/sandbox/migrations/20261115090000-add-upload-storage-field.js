// migrate-mongo migration of the reference backend: uploads record where they are stored.
module.exports = {
  async up(db) {
    await db.collection('uploads').updateMany({ storage: { $exists: false } }, { $set: { storage: 's3' } });
  },

  async down(db) {
    await db.collection('uploads').updateMany({}, { $unset: { storage: '' } });
  },
};
